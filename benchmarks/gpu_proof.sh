#!/usr/bin/env bash
# The GPU proof in one go, for a machine with an NVIDIA GPU whose Python already has CuPy
# and a CUDA build of PyTorch:  bash benchmarks/gpu_proof.sh
# It installs the project without touching those, prints the GPU, runs only the GPU test
# cases, then the GPU benchmark. Each part has a time limit, so a short lease still reports.
set -u
cd "$(dirname "$0")/.."
pip install --no-deps -q -e . || exit 1
python - <<'PY'
import cupy, torch
name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
print("gpu:", name.decode() if isinstance(name, bytes) else name, "| cupy", cupy.__version__,
      "| torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available())
PY
echo "== pytest -m gpu"
timeout "${GPU_TESTS_TIMEOUT:-300}" python -m pytest -m gpu -q -p no:cacheprovider tests/ 2>&1 | tail -25
echo "== benchmarks/bench_gpu.py"
timeout "${GPU_BENCH_TIMEOUT:-240}" python benchmarks/bench_gpu.py "$@"
