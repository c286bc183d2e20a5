"""`cnnviz networks` and `cnnviz network NAME`: whole networks, stage by stage."""
from __future__ import annotations

import argparse
import json

from cnnviz.core.arithmetic import dims_text
from cnnviz.core.network import PRESETS, network_spec, parse_input
from cnnviz.core.network.report import NetworkReport, make_network_report


def cmd_networks(args: argparse.Namespace) -> int:
    from cnnviz.topics.networks import preset_points
    points = {p.name: p for p in preset_points()}
    rows = [{"name": p.name, "title": p.title, "year": p.year, "paper": p.paper,
             "summary": p.summary, "params": points[p.name].params,
             "macs": points[p.name].macs, "top1": p.top1, "top1_source": p.top1_source or None,
             "url": f"/network?net={p.name}", "text": p.text} for p in PRESETS.values()]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(f"{'name':20} {'network':26} {'year':>4} {'params':>13} {'MACs':>15} {'top-1':>6}")
    for r in rows:
        top1 = f"{r['top1']:.1f}" if r["top1"] is not None else "-"
        print(f"{r['name']:20} {r['title']:26} {r['year']:>4} {r['params']:>13,} "
              f"{r['macs']:>15,} {top1:>6}")
    print("MACs at 3x224x224; top-1: ImageNet accuracy of torchvision's IMAGENET1K_V1 weights.")
    return 0


def cmd_network(args: argparse.Namespace) -> int:
    fields: dict[str, object] = {"batch": args.batch, "classes": args.classes,
                                 "seed": args.seed}
    if args.input is not None:
        fields.update(zip(("channels", "height", "width"), parse_input(args.input)))
    report = make_network_report(network_spec(args.name, **fields), args.device)
    print(json.dumps(report.to_json(), indent=2, default=str) if args.json
          else format_network(report))
    return 0


def format_network(report: NetworkReport) -> str:
    """One row per stage, then the totals and torch's confirmation."""
    p, spec = report.predicted, report.spec
    lines = [spec.label() + f"  [{report.device}]"]
    if report.device_note:
        lines.append(report.device_note)
    head = (f"{'stage':10} {'parts':34} {'output':>14} {'RF':>9} {'jump':>5} {'params':>12} "
            f"{'%':>5} {'MACs':>15} {'%':>5}")
    lines += [head, "-" * len(head)]
    for s in report.stages:
        rf = s.receptive_field
        lines.append(f"{s.name[:10]:10} {s.parts[:34]:34} {dims_text(s.output_shape, 'x'):>14} "
                     f"{rf.text('x'):>9} {str(rf.jump[0]):>5} {s.params:>12,} "
                     f"{100 * s.params / max(1, p.params):>5.1f} {s.macs:>15,} "
                     f"{100 * s.macs / max(1, p.macs):>5.1f}")
    lines += ["-" * len(head),
              f"input {p.input_shape} -> output {p.output_shape}",
              f"params {p.params:,}   MACs {p.macs:,}   FLOPs {p.flops:,} (= 2 x MACs)",
              f"activation memory {p.memory / 2**20:.2f} MiB (float32)",
              "measured by torch:"]
    for name, (_, meas, ok) in report.checks().items():
        shown = "" if name.startswith("per-") else f" {meas}"
        lines.append(f"  {'ok ' if ok else 'MISMATCH'} {name}{shown}")
    return "\n".join(lines)


def add_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("networks", help="list the classic networks (presets)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_networks)
    p = sub.add_parser("network", help="predicted and measured numbers of a whole network, "
                                       "stage by stage")
    p.add_argument("name", help="a preset (see `networks`) or a network as text: "
                                "stage=part;part|stage=...")
    p.add_argument("--input", help="input C,H,W (default 3,224,224)")
    p.add_argument("--batch", default=1, help="batch size (default 1)")
    p.add_argument("--classes", default=1000, help="classes of the classifier (default 1000)")
    p.add_argument("--seed", default=0, help="weight seed")
    p.add_argument("--device", default="cpu", help="cpu, cuda or mps (falls back to cpu)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(run=cmd_network)
