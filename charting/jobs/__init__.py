"""Long-running, Qt-free jobs that combine services and reports (exports), with progress."""
