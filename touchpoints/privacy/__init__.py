"""Privacy: what is held about a person and who sees it, their export, erasure after they leave, retention."""
