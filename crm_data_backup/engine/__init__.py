"""Export/restore engine: plain classes with no ORM state, driven by the models."""
