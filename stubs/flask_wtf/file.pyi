from wtforms import FileField as _FileField
from wtforms.fields import Field
from wtforms.form import BaseForm
from wtforms.validators import DataRequired

class FileField(_FileField): ...

class FileRequired(DataRequired):
    def __init__(self, message: str | None = None) -> None: ...
    def __call__(self, form: BaseForm, field: Field) -> None: ...
