"""Optional backends registered through entry points, exactly as a third-party package would."""
