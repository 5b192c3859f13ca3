"""The plan: its file, references, locations, offline checks, schema, saved plans."""
