"""Document builders: plain data in, bytes out. Nothing here touches Flask or the database."""
