#!/usr/bin/env python3
"""Maps instruction addresses to the functions that hold them.

Usage: symbolize-rips.py LINK_MAP RIPS_FILE... > ORDER_FILE

LINK_MAP is lld's -Map output of the traced binary (mangled names, see
.cargo/config.toml); each RIPS_FILE holds one hex address a line
(scripts/trace-rips.c). Prints the names of the functions that were
executed, in address order: lld's --symbol-ordering-file input. The link map
is used rather than the binary's symbol table because the release binary is
stripped, and an unstripped build mangles other names (the hashes follow the
profile).
"""
import bisect
import re
import sys


LINE = re.compile(r"^\s*([0-9a-f]+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+\d+( +)(\S.*)$")


def parse(path):
    """Input sections of .text (start, size) and symbols (address, name)."""
    sections, symbols = [], []
    in_text = False
    for line in open(path):
        m = LINE.match(line)
        if not m:
            continue
        vma, size, indent, name = int(m[1], 16), int(m[2], 16), len(m[3]), m[4].strip()
        if indent == 1:  # an output section
            in_text = name == ".text"
        elif not in_text:
            continue
        elif ":(" in name:  # an input section
            sections.append((vma, size))
        else:
            symbols.append((vma, name))
    return sorted(sections), sorted(symbols)


def main():
    sections, symbols = parse(sys.argv[1])
    sec_starts = [s[0] for s in sections]
    sym_addrs = [s[0] for s in symbols]
    hot = set()
    for path in sys.argv[2:]:
        for line in open(path):
            rip = int(line, 16)
            i = bisect.bisect_right(sec_starts, rip) - 1
            if i < 0 or rip >= sections[i][0] + sections[i][1]:
                continue
            j = bisect.bisect_right(sym_addrs, rip) - 1
            if j >= 0 and symbols[j][0] >= sections[i][0]:
                hot.add(j)
    for j in sorted(hot):
        print(symbols[j][1])
    print(f"{len(hot)} functions", file=sys.stderr)


main()
