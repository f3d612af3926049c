"""Proof tests: crash safety, concurrent writers, bad files, properties and file modes."""
