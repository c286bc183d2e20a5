"""Text tables of the report and the bench (the JSON forms come from their to_json)."""
from __future__ import annotations

from cnnviz.core.arithmetic import dims_text
from cnnviz.core.report import Report


def format_report(report: Report) -> str:
    """A readable table: one row per layer, then totals and torch's confirmation."""
    p = report.predicted
    lines = [report.spec.label() + f"  [{report.device}]"]
    if report.device_note:
        lines.append(report.device_note)
    head = f"{'layer':34} {'type':18} {'output':>16} {'params':>10} {'MACs':>14} {'RF':>9}"
    lines += [head, "-" * len(head)]
    for x in p.layers:
        shape = dims_text(x.out_shape, "x")
        lines.append(f"{x.name[:34]:34} {x.kind[:18]:18} {shape:>16} {x.params:>10,} "
                     f"{x.macs:>14,} {x.receptive_field.text('x'):>9}")
    rf, field = p.receptive_field, report.field
    shown = rf.text("x") if field is None or rf.is_global else field.text("x")
    bound = f" (the recurrence's bound: {field.bound_text('x')})" \
        if field is not None and field.bound_is_larger else ""
    lines += ["-" * len(head),
              f"input {p.input_shape} -> output {p.output_shape}",
              f"params {p.params:,}   MACs {p.macs:,}   FLOPs {p.flops:,} (= 2 x MACs)",
              "elementwise ops (not in FLOPs): "
              + ", ".join(f"{k} {v:,}" for k, v in p.elementwise.items()),
              f"activation memory {p.memory / 2**20:.2f} MiB (float32)",
              f"receptive field {shown}{bound}, jump {dims_text(rf.jump, 'x')}; centre pixel "
              f"{p.support.pixel} sees rows {p.support.rows[0]}-{p.support.rows[1]}, "
              f"cols {p.support.cols[0]}-{p.support.cols[1]}"]
    lines += report.rf_notes()
    lines.append("measured by torch:")
    for name, (_, meas, ok) in report.checks().items():
        shown = "" if name == "per-layer shapes" else f" {meas}"
        lines.append(f"  {'ok ' if ok else 'MISMATCH'} {name}{shown}")
    return "\n".join(lines)


def format_bench(results: list[dict]) -> str:
    lines = []
    for r in results:
        m = r["median_ms"]
        lines += [
            f"{r['config']}  (medians of {r['repeats']} runs in alternating blocks, "
            f"{r['torch_threads']} torch threads)",
            f"  predicted report      {m['predicted_report']:9.2f} ms",
            f"  torchinfo.summary     {m['torchinfo_summary']:9.2f} ms   "
            f"-> predicted is {r['torchinfo_over_predicted']}x faster (target >= 20x)",
            f"  measured report       {m['measured_report']:9.2f} ms",
            f"  forward + backward    {m['forward_backward']:9.2f} ms   "
            f"-> measured costs {r['measured_over_forward_backward']}x (target <= 1.5x)"]
    return "\n".join(lines)


# The CSV rule (OWASP's CSV injection): cnnviz.lessons.exports, with the room's files the app
# offers too.
