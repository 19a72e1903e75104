# Sourced by gpu_checks.sh and gpu_nextframe.sh (from the repository root, OUT set): the wheels in .whl/ installed
# into a fresh /tmp/site (the pinned versions a bare GPU machine lacks), the environment, the machine's versions into
# $OUT/env.txt, and `launch`: training/pretrain.py through `accelerate launch` on one GPU in bf16, PyAV decoding (a
# machine without FFmpeg's shared libraries cannot load torchcodec), printing the wall time of the whole command.
if compgen -G ".whl/*.whl" >/dev/null; then
    rm -rf /tmp/site
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
    export PYTHONPATH=/tmp/site:$PWD
else
    export PYTHONPATH=$PWD
fi
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
{
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
    nproc
    python3 -c "import torch, torchvision, transformers, datasets, accelerate, av, hfvid; print('torch', torch.__version__, 'torchvision', torchvision.__version__, 'transformers', transformers.__version__, 'datasets', datasets.__version__, 'accelerate', accelerate.__version__, 'av', av.__version__)"
    python3 -c "from hfvid.data.decoding import TORCHCODEC_ERROR; print('torchcodec:', TORCHCODEC_ERROR or 'loads')"
} 2>&1 | tee "$OUT/env.txt"

launch() {  # accelerate launch, one GPU, bf16; the wall time of the whole command
    local start=$SECONDS
    accelerate launch --num_processes 1 --num_machines 1 --mixed_precision bf16 --dynamo_backend no \
        training/pretrain.py --decode_backend pyav --mixed_precision bf16 "$@" 2>&1 | tr '\r' '\n' | grep -v "it/s\]$" | tail -n 25
    echo "== pretrain.py $* : rc ${PIPESTATUS[0]}, $((SECONDS - start)) s wall"
}
