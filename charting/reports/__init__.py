"""Qt-free ReportLab documents, built from data they are handed (never from a session)."""
