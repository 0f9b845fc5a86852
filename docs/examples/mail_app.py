"""Mail with Kit: an endpoint queues a message; a background worker delivers it."""

# --8<-- [start:app]
from fastapi import FastAPI
from pydantic import BaseModel

from fastapi_kit import Kit, KitSettings
from fastapi_kit.mail import MailMessage

kit = Kit(KitSettings())  # SMTP_URL set: SMTP; unset: a start-up warning, nothing sent
mail = kit.use_mail()
app = kit.install(FastAPI())


class Invite(BaseModel):
    """Who to invite."""

    email: str


@app.post("/invites", status_code=202)
async def invite(body: Invite) -> dict[str, str]:
    """Answer at once: the message waits in the queue, not on the mail server."""
    link = f"{kit.settings.public_url}/join"
    await mail.send(
        MailMessage(
            to=body.email,
            subject="You are invited",
            text=f"Join us: {link}",
            html=f'<p><a href="{link}">Join us</a></p>',
        )
    )
    return {"status": "queued"}


# --8<-- [end:app]
