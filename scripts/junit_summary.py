#!/usr/bin/env python3
"""Reads nextest's JUnit report for scripts/test.sh: one line per test outcome on stdout,
tab-separated, for the shell to count and list.

    PASS <test>
    FAIL <test>
    SKIP <test> <suite> <how to enable>   (a test that printed an ORCAZAP-SKIP line, or <skipped/>)

Exit 2 when the report is missing or unreadable (the build failed or nextest did not run).
"""

import re
import sys
import xml.etree.ElementTree as ET

MARKER = re.compile(r"^ORCAZAP-SKIP \[([^\]]+)\]: (.*)$", re.M)  # crates/store/src/testing.rs


def main(path):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as exc:
        print(f"junit report unreadable: {exc}", file=sys.stderr)
        return 2
    for suite in root.iter("testsuite"):
        for case in suite.iter("testcase"):
            name = f"{case.get('classname') or suite.get('name')} {case.get('name')}"
            if case.find("failure") is not None or case.find("error") is not None:
                print(f"FAIL\t{name}")
                continue
            skipped = case.find("skipped")
            if skipped is not None:
                print(f"SKIP\t{name}\tignored\t{skipped.get('message') or '#[ignore]'}")
                continue
            output = "".join((case.findtext(tag) or "") for tag in ("system-out", "system-err"))
            m = MARKER.search(output)
            if m:
                print(f"SKIP\t{name}\t{m.group(1)}\t{m.group(2).strip()}")
            else:
                print(f"PASS\t{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
