from fastapi import FastAPI
from pydantic import BaseModel

from fastapi_kit import Kit, KitSettings
from fastapi_kit.errors import NotFound, problem_responses


class Note(BaseModel):
    id: int
    text: str


NOTES = {1: Note(id=1, text="Hello, kit")}
app = Kit(KitSettings()).install(FastAPI(title="Notes"))


@app.get("/notes/{note_id}", responses=problem_responses(NotFound))
async def get_note(note_id: int) -> Note:
    if note_id not in NOTES:
        raise NotFound(f"Note {note_id} not found")
    return NOTES[note_id]
