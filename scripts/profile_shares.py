#!/usr/bin/env python3
"""Groups a proxy profile's samples by who spends them (scripts/profile.sh, issue #19).

Reads `perf report --no-children --sort dso,sym --stdio` from stdin (or a file argument) and
prints each group's share of the samples, then relaytap's own share: Asio (the boost::asio
symbols compiled into relaytap), relaytap's other code, malloc/free and memcpy/memmove, the
grouping BENCHMARKS.md has used since session 20. With --own, prints only the own share.
"""
import collections
import re
import sys

LINE = re.compile(r'^\s*([\d.]+)%\s+(\S+)\s+\[(.)\]\s+(.*)$')
OWN = ('Asio', "relaytap's code", 'libc: malloc/free', 'libc: memcpy/memmove')


def group(dso, sym):
    if 'kernel' in dso:
        return 'kernel'
    if 'libcrypto' in dso:
        if re.search(r'aes|gcm|ghash|xor|clmul', sym, re.I):
            return 'libcrypto: AES-GCM/GHASH'
        return 'libcrypto: other'
    if 'libssl' in dso:
        return 'libssl'
    if 'sqlite' in dso:
        return 'sqlite'
    if dso.startswith('libc.so') or dso.startswith('libc-'):
        if re.search(r'malloc|free|tcache|_int_|consolidate|calloc|realloc|unlink_chunk', sym):
            return 'libc: malloc/free'
        if re.search(r'mem(cpy|move|set)', sym):
            return 'libc: memcpy/memmove'
        return 'libc: other (syscall entries, ...)'
    if 'relaytap' in dso:
        if 'sqlite3' in sym:
            return 'sqlite'
        if 'boost::asio' in sym[:60]:
            return 'Asio'
        return "relaytap's code"
    if 'libstdc++' in dso:
        return 'libstdc++'
    if 'absl' in dso:
        return 'absl'
    return 'other: ' + dso


def shares(lines):
    total = collections.Counter()
    for line in lines:
        m = LINE.match(line)
        if m:
            total[group(m.group(2), m.group(4).strip())] += float(m.group(1))
    return total


def main(argv):
    own_only = '--own' in argv
    paths = [a for a in argv[1:] if a != '--own']
    lines = open(paths[0]).readlines() if paths else sys.stdin.readlines()
    total = shares(lines)
    if not total:
        sys.exit('profile_shares: no samples in the report')
    own = sum(total[k] for k in OWN)
    if own_only:
        print(f'{own:.2f}')
        return
    for name, pct in total.most_common():
        print(f'{pct:6.2f} %  {name}')
    print(f'{own:6.2f} %  relaytap\'s own share ({" + ".join(OWN)})')


if __name__ == '__main__':
    main(sys.argv)
