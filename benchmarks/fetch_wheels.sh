#!/usr/bin/env bash
# Download, on a machine that reaches PyPI, exactly the wheels that the GPU machine lacks (its Python 3.12 /
# torch 2.11 has no pydantic, platformdirs, plotly, albumentations, dask or kornia, and cannot reach a registry) into
# the git-ignored .whl/ folder; benchmarks/gpu_check.sh installs from there the ones missing on the device.
#
#   bash benchmarks/fetch_wheels.sh                  # pydantic, platformdirs, plotly, kornia (+ their deps), pytest
#   bash benchmarks/fetch_wheels.sh --albumentations # also albumentations (with OpenCV: ~40 MB more)
#
# Dask is not fetched: the device check runs studies with the local executor. ~22 MB without albumentations.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
WANT=(
  pydantic==2.14.4 pydantic-core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5 typing-extensions==4.16.0
  platformdirs==4.14.9
  kornia==0.9.0 kornia-rs==0.2.0 packaging==26.4
  pytest==9.2.0 pluggy==1.7.0 iniconfig==2.3.1 pygments==2.21.0
  plotly==7.1.0 narwhals==2.29.0  # report.html (augstudy/report/html.py imports plotly); the device has no plotly
)
if [[ "${1:-}" == "--albumentations" ]]; then
  WANT+=(albumentations==2.0.8 albucore==0.0.24 stringzilla==5.3.2 simsimd==6.5.16 opencv-python-headless==4.13.0.92 pyyaml==6.0.3)
fi
mkdir -p .whl
PIP_CONSTRAINT= "$PY" -m pip download --no-deps --only-binary :all: --python-version 3.12 --implementation cp --abi cp312 \
  --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 \
  -d .whl "${WANT[@]}"
ls -la .whl/*.whl
du -sh .whl
