"""Internal building blocks shared by the engines and the edges (no analysis logic)."""
