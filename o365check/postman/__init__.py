"""The Postman collection runner: load collections, run them, report like Newman without leaking secrets."""

from .loading import load_collection, load_environment, load_globals, load_iteration_data, parse_collection
from .model import Collection, VariableFile
from .runner import CollectionRun, RunConfig, iter_run

__all__ = [
    "Collection",
    "CollectionRun",
    "RunConfig",
    "VariableFile",
    "iter_run",
    "load_collection",
    "load_environment",
    "load_globals",
    "load_iteration_data",
    "parse_collection",
]
