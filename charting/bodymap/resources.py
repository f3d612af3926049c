"""The body map's access to resource files (the one helper lives in ``charting.resources``)."""

from charting.resources import resource_path, resource_root

__all__ = ["resource_path", "resource_root"]
