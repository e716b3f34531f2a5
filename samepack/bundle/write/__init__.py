"""Writing a bundle: export, the part writer, its worker processes, the data part in place."""
