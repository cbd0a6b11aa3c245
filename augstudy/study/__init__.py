"""Studies: a YAML spec, its grid of cells, a resumable results store, local and Dask execution."""
from .grid import Cell, expand, select
from .lock import StudyLock
from .runner import run_study
from .spec import SpecError, StudySpec, load_spec, validate_spec
from .store import StudyStore, load_results

__all__ = ["StudySpec", "SpecError", "load_spec", "validate_spec", "Cell", "expand", "select",
           "StudyStore", "StudyLock", "run_study", "load_results"]
