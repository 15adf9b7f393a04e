"""AdapterHub's own resolution of config strings: for each string, `AdapterConfig.load(string).to_dict()`
written as OUT_DIR/<n>.json (n = its position), as adapter_config.json holds a config. adapterc's
translation of the string and of the dict must agree (interop/tests/adapterhub-export.test.ts).

Usage: python interop/adapterhub_configs.py OUT_DIR CONFIG_STRING...
"""

import json
import pathlib
import sys

from adapters import AdapterConfig

out = pathlib.Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
for n, text in enumerate(sys.argv[2:]):
    (out / f"{n}.json").write_text(json.dumps({"config": AdapterConfig.load(text).to_dict(), "name": "hub"}, indent=2) + "\n")
