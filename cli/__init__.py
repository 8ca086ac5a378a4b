"""sncse command line (Typer + rich); imports the library, never the reverse."""
