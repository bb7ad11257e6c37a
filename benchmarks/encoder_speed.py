"""Encoder speed, measured side by side in one run: R3D-18 over a sliding window vs the streaming encoder.

Per-new-frame latency: a camera delivers one frame; R3D-18 must re-encode the whole clip, the streaming encoder
runs its 2D CNN on the new frame and the temporal layer over its ring buffer. Batched throughput: clips/s of
the full-clip call at batch B. On CUDA it also measures bf16 autocast + channels_last(_3d) + torch.compile.

    .venv/bin/python benchmarks/encoder_speed.py                 # CPU, 1 thread
    .venv/bin/python benchmarks/encoder_speed.py --threads 2 --json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import time
from collections.abc import Callable, Iterator

import torch

from v2p.encoders import R3D18Encoder, StreamingVideoEncoder, VideoEncoder


def timed(fn: Callable[[], object], repeats: int, sync: Callable[[], None]) -> float:
    """Median seconds per call (after the caller's warm-up)."""
    times = []
    for _ in range(repeats):
        sync()
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def frame_latency(enc: VideoEncoder, frames: torch.Tensor, repeats: int, sync: Callable[[], None],
                  ctx: Callable[[], contextlib.AbstractContextManager]) -> float:
    """Median seconds for push() of one new frame once the window is full."""
    t = enc.clip_len
    enc.reset()
    with ctx():
        for i in range(t + 3):  # fill the window, plus warm-up pushes
            enc.push(frames[i % len(frames)])
        i = iter(range(10**9))
        return timed(lambda: enc.push(frames[next(i) % len(frames)]), repeats, sync)


def clip_throughput(enc: VideoEncoder, clips: torch.Tensor, repeats: int, sync: Callable[[], None],
                    ctx: Callable[[], contextlib.AbstractContextManager]) -> float:
    """Clips per second of the batched full-clip call."""
    with torch.no_grad(), ctx():
        for _ in range(2):
            enc(clips)
        return len(clips) / timed(lambda: enc(clips), repeats, sync)


def run_device(name: str, encoders: dict[str, VideoEncoder], device: torch.device, args: argparse.Namespace,
               ctx: Callable[[], contextlib.AbstractContextManager]) -> dict[str, float]:
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    g = torch.Generator().manual_seed(0)
    shape = (args.clip_len, args.frame_size, args.frame_size, 3)
    frames = torch.randint(0, 256, (32, *shape[1:]), generator=g, dtype=torch.uint8).to(device)
    clips = torch.randint(0, 256, (args.batch, *shape), generator=g, dtype=torch.uint8).to(device)
    out: dict[str, float] = {}
    for kind, enc in encoders.items():
        out[f"{kind}_frame_ms"] = 1e3 * frame_latency(enc, frames, args.repeats, sync, ctx)
        out[f"{kind}_clips_per_s"] = clip_throughput(enc, clips, max(3, args.repeats // 4), sync, ctx)
    out["frame_latency_ratio"] = out["r3d18_frame_ms"] / out["streaming_frame_ms"]
    print(f"[{name}] per new frame: r3d18 {out['r3d18_frame_ms']:.2f} ms, streaming "
          f"{out['streaming_frame_ms']:.2f} ms -> streaming is {out['frame_latency_ratio']:.1f}x cheaper "
          f"(target >= 5x)")
    print(f"[{name}] batched clips (B={args.batch}): r3d18 {out['r3d18_clips_per_s']:.1f} clips/s, streaming "
          f"{out['streaming_clips_per_s']:.1f} clips/s")
    return out


def build(device: torch.device, args: argparse.Namespace, fast: bool) -> dict[str, VideoEncoder]:
    torch.manual_seed(0)
    r3d = R3D18Encoder(clip_len=args.clip_len, frame_size=args.frame_size).to(device).eval()
    streaming = StreamingVideoEncoder(clip_len=args.clip_len, frame_size=args.frame_size).to(device).eval()
    if fast:
        # The clip's own [B, T, H, W, C] layout is already channels-last; matching the weights avoids transposes.
        r3d.net.to(memory_format=torch.channels_last_3d)
        streaming.frame_cnn.to(memory_format=torch.channels_last)
        r3d.net = torch.compile(r3d.net)
        streaming.frame_cnn = torch.compile(streaming.frame_cnn)
        streaming.temporal = torch.compile(streaming.temporal)
    return {"r3d18": r3d, "streaming": streaming}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=1, help="CPU threads (default: 1)")
    p.add_argument("--batch", type=int, default=16, help="clips per batched call (default: 16)")
    p.add_argument("--clip-len", type=int, default=8)
    p.add_argument("--frame-size", type=int, default=64)
    p.add_argument("--repeats", type=int, default=20, help="timed calls per figure (median reported)")
    p.add_argument("--json", action="store_true", help="also print all figures as one JSON object")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} CPU thread(s), clips {args.clip_len}x{args.frame_size}x"
          f"{args.frame_size}x3")

    results = {"cpu_fp32": run_device("cpu fp32", build(torch.device("cpu"), args, fast=False),
                                      torch.device("cpu"), args, contextlib.nullcontext)}
    if torch.cuda.is_available():
        cuda = torch.device("cuda")
        print(f"GPU: {torch.cuda.get_device_name(0)}")
        results["cuda_fp32"] = run_device("cuda fp32", build(cuda, args, fast=False), cuda, args,
                                          contextlib.nullcontext)

        @contextlib.contextmanager
        def bf16() -> Iterator[None]:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                yield

        results["cuda_bf16_channels_last_compile"] = run_device(
            "cuda bf16+channels_last+compile", build(cuda, args, fast=True), cuda, args, bf16)
    else:
        print("no CUDA device: bf16 + channels_last_3d + torch.compile figures need a GPU")
    if args.json:
        print(json.dumps({k: {m: round(v, 4) for m, v in r.items()} for k, r in results.items()}))


if __name__ == "__main__":
    main()
