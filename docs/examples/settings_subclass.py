"""Settings: the kit's variables plus the app's own, read from the environment."""

from fastapi_kit import Kit, KitSettings


class Settings(KitSettings):
    """The app's settings: every kit setting, and ``ADMIN_EMAIL``."""

    admin_email: str | None = None


settings = Settings()  # reads the environment; raises ValidationError on bad values
kit = Kit(settings)
