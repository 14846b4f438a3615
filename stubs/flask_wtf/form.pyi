from collections.abc import Callable, Mapping, Sequence
from typing import Any

from markupsafe import Markup
from wtforms import Form
from wtforms.fields import Field
from wtforms.form import BaseForm
from wtforms.meta import DefaultMeta

_Validators = Mapping[str, Sequence[Callable[[Form, Field], object]]]

class FlaskForm(Form):
    class Meta(DefaultMeta):
        def wrap_formdata(self, form: BaseForm, formdata: Any) -> Any: ...

    def __init__(self, formdata: Any = ..., **kwargs: Any) -> None: ...
    def is_submitted(self) -> bool: ...
    def validate_on_submit(self, extra_validators: _Validators | None = None) -> bool: ...
    def hidden_tag(self, *fields: Field | str) -> Markup: ...
