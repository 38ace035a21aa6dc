/**
 * Neighbourhoods of the per-coordinate programs: coordinate i's network sees x_{N_i}, the
 * coordinates within graph distance r of i. Graphs are the built-in ring and 2-D torus (the same
 * graphs as the Ising target, see isingEdges) or an adjacency read from JSON. Adjacency lists are
 * Int32Arrays, sorted ascending, without self loops, symmetric (j in adj[i] iff i in adj[j]).
 */
import fs from 'node:fs';
import { InputError, hasErrorCode } from '../util/errors.js';

export type GraphName = 'ring' | 'torus';
export const GRAPH_NAMES: readonly GraphName[] = ['ring', 'torus'];

/** adjacency lists (sorted, no self loops) of the ring (i±1 mod d) or the 2-D torus (d = side^2, side >= 3, 4 neighbours) */
export function graphAdjacency(graph: GraphName, d: number): Int32Array[] {
  if (!GRAPH_NAMES.includes(graph)) throw new InputError(`graph "${String(graph)}" is not built in; use one of ${GRAPH_NAMES.join(', ')}, or give an adjacency file`);
  if (graph === 'ring') {
    if (!(Number.isInteger(d) && d >= 3)) throw new InputError(`a ring needs d >= 3 coordinates (an integer), got d = ${d}; use full inputs for smaller d`);
    return Array.from({ length: d }, (_, i) => sortedUnique([(i + d - 1) % d, (i + 1) % d]));
  }
  const side = Math.round(Math.sqrt(d));
  if (!(Number.isInteger(d) && side * side === d && side >= 3)) {
    throw new InputError(`a torus needs d = side^2 coordinates with side >= 3 (9, 16, 25, ...), got d = ${d}; use a ring or an adjacency file for this d`);
  }
  const adj: Int32Array[] = [];
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      adj.push(
        sortedUnique([
          row * side + ((col + 1) % side),
          row * side + ((col + side - 1) % side),
          ((row + 1) % side) * side + col,
          ((row + side - 1) % side) * side + col,
        ]),
      );
    }
  }
  return adj;
}

/**
 * parse an adjacency from JSON: either {"adjacency": [[neighbours of 0], [of 1], ...]} or an array
 * of lists, or {"edges": [[i,j],...], "d": d}. Indices must be integers in [0, d), without self
 * loops or repeats; lists must be symmetric (an asymmetric pair is rejected, not repaired); there
 * must be d lists. Edges are undirected (each given once or twice).
 */
export function parseAdjacency(json: unknown, d: number, source: string): Int32Array[] {
  if (!(Number.isInteger(d) && d >= 1)) throw new Error(`parseAdjacency: d = ${d} must be an integer >= 1`);
  const formats = 'an array of neighbour lists, {"adjacency": [[...], ...]} or {"edges": [[i, j], ...], "d": d}';
  const isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
  if (isObject && 'edges' in json) return parseEdges(json as Record<string, unknown>, d, source);
  let lists: unknown = json;
  if (isObject) {
    if (!('adjacency' in json)) throw new InputError(`${source}: no "adjacency" or "edges" field; give ${formats}`);
    lists = (json as Record<string, unknown>).adjacency;
  }
  const where = isObject ? '"adjacency"' : 'the adjacency';
  if (!Array.isArray(lists)) throw new InputError(`${source}: ${where} is not an array; give ${formats}`);
  if (lists.length !== d) {
    throw new InputError(`${source}: ${where} has ${lists.length} lists but the data have d = ${d} coordinates; give one neighbour list per coordinate`);
  }
  const adj: Int32Array[] = [];
  const sets: Set<number>[] = [];
  for (let i = 0; i < d; i++) {
    const li: unknown = lists[i];
    if (!Array.isArray(li)) throw new InputError(`${source}: the entry of node ${i} is not a list; give each node's neighbours as an array of indices`);
    const set = new Set<number>();
    for (const j of li as unknown[]) {
      checkIndex(j, d, source, `node ${i}'s list`);
      if (j === i) throw new InputError(`${source}: node ${i} lists itself; self loops are not allowed (N_i always contains i), so remove ${i} from its list`);
      if (set.has(j)) throw new InputError(`${source}: node ${i} lists ${j} twice; list each neighbour once`);
      set.add(j);
    }
    sets.push(set);
    adj.push(sortedUnique([...set]));
  }
  for (let i = 0; i < d; i++) {
    for (const j of adj[i]) {
      if (!sets[j].has(i)) {
        throw new InputError(
          `${source}: node ${i} lists ${j} as a neighbour but node ${j} does not list ${i}; the graph must be undirected, so add ${i} to node ${j}'s list or remove ${j} from node ${i}'s`,
        );
      }
    }
  }
  return adj;
}

function parseEdges(obj: Record<string, unknown>, d: number, source: string): Int32Array[] {
  const dj = obj.d;
  if (dj === undefined) throw new InputError(`${source}: an edge list needs "d", the number of nodes; add "d": ${d}`);
  if (dj !== d) throw new InputError(`${source}: "d" is ${JSON.stringify(dj)} but the data have d = ${d} coordinates; the graph needs one node per coordinate`);
  const edges = obj.edges;
  if (!Array.isArray(edges)) throw new InputError(`${source}: "edges" is not an array; give it as [[i, j], ...]`);
  const sets = Array.from({ length: d }, () => new Set<number>());
  edges.forEach((e: unknown, k) => {
    if (!Array.isArray(e) || e.length !== 2) throw new InputError(`${source}: edge ${k} is ${JSON.stringify(e)}; each edge must be a pair [i, j]`);
    const [i, j] = e as unknown[];
    checkIndex(i, d, source, `edge ${k}`);
    checkIndex(j, d, source, `edge ${k}`);
    if (i === j) throw new InputError(`${source}: edge ${k} is the self loop [${i}, ${j}]; self loops are not allowed (N_i always contains i), so remove it`);
    sets[i].add(j);
    sets[j].add(i);
  });
  return sets.map((s) => sortedUnique([...s]));
}

function checkIndex(j: unknown, d: number, source: string, where: string): asserts j is number {
  if (typeof j !== 'number' || !Number.isInteger(j)) {
    throw new InputError(`${source}: ${where} holds ${JSON.stringify(j)}, which is not an integer node index; nodes are 0, ..., ${d - 1}`);
  }
  if (j < 0 || j >= d) throw new InputError(`${source}: ${where} holds node ${j}, out of range; nodes are 0, ..., ${d - 1} for d = ${d}`);
}

function sortedUnique(v: number[]): Int32Array {
  const a = Int32Array.from(new Set(v));
  a.sort();
  return a;
}

/** Reads and parses an adjacency JSON file; InputError for a missing file or bad JSON. */
export function readAdjacencyFile(path: string, d: number): Int32Array[] {
  const label = `adjacency file "${path}"`;
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    if (hasErrorCode(err, 'ENOENT', 'ENOTDIR')) throw new InputError(`${label} not found; check the path (relative paths start at ${process.cwd()})`, { cause: err });
    if (hasErrorCode(err, 'EISDIR')) throw new InputError(`${label} is a directory; pass the path of a JSON adjacency file`, { cause: err });
    if (hasErrorCode(err, 'EACCES', 'EPERM')) throw new InputError(`${label} cannot be read (permission denied); check its permissions`, { cause: err });
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new InputError(`${label} is not valid JSON (${reason}); give an array of neighbour lists, {"adjacency": [...]} or {"edges": [[i, j], ...], "d": d}`, {
      cause: err,
    });
  }
  return parseAdjacency(json, d, label);
}

/**
 * N_i = all nodes within graph distance <= r of i (BFS), sorted ascending, i included. r integer >= 0;
 * r = 0 gives N_i = {i}. A radius at or beyond the diameter of a connected graph (every N_i the
 * whole graph) is an InputError: that is the full-input program.
 */
export function neighbourhoods(adj: Int32Array[], r: number): Int32Array[] {
  if (!(Number.isInteger(r) && r >= 0)) {
    throw new InputError(`radius r = ${r}; it must be an integer >= 0 (0: each coordinate sees only itself, 1: its neighbours too, ...)`);
  }
  const d = adj.length;
  const stamp = new Int32Array(d).fill(-1);
  const dist = new Int32Array(d);
  const queue = new Int32Array(d);
  const out: Int32Array[] = [];
  let allWhole = d > 0;
  for (let i = 0; i < d; i++) {
    let head = 0;
    let tail = 0;
    queue[tail++] = i;
    stamp[i] = i;
    dist[i] = 0;
    while (head < tail) {
      const u = queue[head++];
      if (dist[u] === r) continue;
      const nb = adj[u];
      for (let k = 0; k < nb.length; k++) {
        const w = nb[k];
        if (stamp[w] !== i) {
          stamp[w] = i;
          dist[w] = dist[u] + 1;
          queue[tail++] = w;
        }
      }
    }
    if (tail < d) allWhole = false;
    const N = queue.slice(0, tail);
    N.sort();
    out.push(N);
  }
  // every ball is the whole graph exactly when the graph is connected and r >= its diameter
  if (allWhole) {
    throw new InputError(`radius r = ${r} reaches the whole graph (diameter ${graphDiameter(adj)}); use full inputs: leave out --radius`);
  }
  return out;
}

/** the graph's diameter (max BFS eccentricity; Infinity if disconnected) */
export function graphDiameter(adj: Int32Array[]): number {
  const d = adj.length;
  const dist = new Int32Array(d);
  const queue = new Int32Array(d);
  let diameter = 0;
  for (let i = 0; i < d; i++) {
    dist.fill(-1);
    let head = 0;
    let tail = 0;
    queue[tail++] = i;
    dist[i] = 0;
    while (head < tail) {
      const u = queue[head++];
      const nb = adj[u];
      for (let k = 0; k < nb.length; k++) {
        const w = nb[k];
        if (dist[w] < 0) {
          dist[w] = dist[u] + 1;
          queue[tail++] = w;
        }
      }
    }
    if (tail < d) return Infinity;
    diameter = Math.max(diameter, dist[queue[tail - 1]]);
  }
  return diameter;
}

/**
 * The windows of a shared (weight-tied) coordinate network (docs/math/shared.md): for every coordinate
 * i, its inputs in a canonical translation-invariant order, by offset from i, so that one network reads
 * every coordinate's window the same way. Ring: offsets -r..r (i in the middle, position r). Torus
 * (d = side^2, node row * side + col): the offsets (dy, dx) with |dy| + |dx| <= r, dy then dx ascending
 * (the graph ball of radius r; i at the position of (0, 0)). The set of each window is neighbourhoods()'
 * ball; only the order differs (neighbourhoods() sorts by index, which wraps differently at the ends).
 * Refused with an InputError naming the fix: graphs that are not translation invariant (anything but
 * ring and torus, e.g. an adjacency file) and radii whose windows would overlap themselves
 * (2r + 1 > d on a ring, 2r + 1 > side on a torus).
 */
export function offsetWindows(graph: string, d: number, r: number): { windows: number[][]; center: number } {
  if (!(GRAPH_NAMES as readonly string[]).includes(graph)) {
    throw new InputError(
      `a shared network needs a translation-invariant graph (ring or torus), where every coordinate's window has the same shape; "${graph}" is not one: use --graph ring or torus, or leave out --shared (one network per coordinate)`,
    );
  }
  if (!(Number.isInteger(r) && r >= 0)) throw new InputError(`radius r = ${r}; it must be an integer >= 0 (0: each coordinate sees only itself, 1: its neighbours too, ...)`);
  graphAdjacency(graph as GraphName, d); // checks d for the graph
  if (graph === 'ring') {
    if (2 * r + 1 > d) throw new InputError(`a shared window of radius ${r} on a ring of d = ${d} overlaps itself (2r + 1 = ${2 * r + 1} > d); use a radius <= ${Math.floor((d - 1) / 2)}`);
    return { windows: Array.from({ length: d }, (_, i) => Array.from({ length: 2 * r + 1 }, (_, k) => (i + k - r + d) % d)), center: r };
  }
  const side = Math.round(Math.sqrt(d));
  if (2 * r + 1 > side) throw new InputError(`a shared window of radius ${r} on a ${side} x ${side} torus overlaps itself (2r + 1 = ${2 * r + 1} > ${side}); use a radius <= ${Math.floor((side - 1) / 2)}`);
  const offsets: [number, number][] = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (Math.abs(dy) + Math.abs(dx) <= r) offsets.push([dy, dx]);
  const center = offsets.findIndex(([dy, dx]) => dy === 0 && dx === 0);
  const windows = Array.from({ length: d }, (_, i) => {
    const row = Math.floor(i / side);
    const col = i % side;
    return offsets.map(([dy, dx]) => ((row + dy + side) % side) * side + ((col + dx + side) % side));
  });
  return { windows, center };
}
