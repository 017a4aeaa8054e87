"""Import cycles between the modules (files) of Rust crates' src/ folders;
exits 1 when there is one (CI runs it: helpers and shared types belong
in the module both sides use, not in one of them).

Usage: python3 scripts/import_cycles.py src crates/*/src

An edge A -> B exists when file A names a path into module B (use lines or
inline paths: crate::x::y, super::x, self::x). Edges from a module to its
own descendants are ignored (a parent declaring and using its children is
the tree, not a cycle); edges to ancestors count.
"""
import os, re, sys

def modules(src):
    mods = {}
    for root, _, files in os.walk(src):
        for f in files:
            if not f.endswith('.rs'): continue
            path = os.path.join(root, f)
            rel = os.path.relpath(path, src)[:-3].split(os.sep)
            if rel[-1] in ('mod', 'lib', 'main'): rel = rel[:-1]
            mods[tuple(rel)] = path
    return mods

def strip_tests(text):
    i = text.find('#[cfg(test)]')
    return text if i < 0 else text[:i]

PATH = re.compile(r'\b(crate|super|self)((?:::[A-Za-z_][A-Za-z0-9_]*)+)')
USE = re.compile(r'\buse\s+(crate|super|self)::\{([^;]*)\}', re.S)

def refs(mod, text):
    out = []
    def resolve(head, parts):
        if head == 'crate': base = ()
        elif head == 'super': base = mod[:-1]
        else: base = mod
        return base + tuple(parts)
    for m in USE.finditer(text):
        head, inner = m.group(1), m.group(2)
        for item in re.split(r'[,{}\s]+', inner):
            item = item.strip()
            if not item: continue
            out.append(resolve(head, [p for p in item.split('::') if p and p != 'self']))
    for m in PATH.finditer(text):
        out.append(resolve(m.group(1), [p for p in m.group(2).split('::') if p]))
    return out

def main(src):
    mods = modules(src)
    graph = {m: set() for m in mods}
    for m, path in mods.items():
        text = strip_tests(open(path).read())
        for r in refs(m, text):
            target = None
            for n in range(len(r), -1, -1):
                if r[:n] in mods: target = r[:n]; break
            if target is None or target == m: continue
            if target[:len(m)] == m: continue  # own descendant
            graph[m].add(target)
    # Tarjan
    index, low, stack, on, sccs, i = {}, {}, [], set(), [], [0]
    def strong(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in graph[v]:
            if w not in index: strong(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: sccs.append(comp)
    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index: strong(v)
    for c in sccs:
        print('cycle:', ', '.join('::'.join(x) or 'crate' for x in sorted(c)))
    print(f'{len(sccs)} import cycles among {len(mods)} modules of {src}')
    return len(sccs)

if __name__ == '__main__':
    found = sum(main(src) for src in sys.argv[1:])
    sys.exit(1 if found else 0)
