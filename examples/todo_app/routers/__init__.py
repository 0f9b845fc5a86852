"""The app's own routers (todos, admin), under ``/api/v1``; the account routes are the kit's."""
