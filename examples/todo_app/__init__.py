"""The example todo service: every fastapi-kit building block, composed with ``Kit``.

Serve it with ``uvicorn todo_app.main:app --app-dir examples``; migrate its database
with ``PYTHONPATH=examples python -m todo_app migrate``.
"""
