from __future__ import annotations

import subprocess
import sys


def test_importing_enrich_loads_no_model_and_no_heavy_library() -> None:
    code = (
        "import sys, monitor.enrich, monitor.cli.eval\n"
        "heavy = [m for m in ('torch', 'transformers', 'snownlp', 'lingua', 'vaderSentiment', 'sklearn', 'scipy') "
        "if m in sys.modules]\n"
        "from monitor.enrich import embedded\n"
        "print(','.join(heavy) or 'none', embedded._shared is None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["none", "True"]
