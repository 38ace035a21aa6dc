/** Graph neighbourhoods N_i of the per-coordinate programs: built-in graphs, adjacency files, radii. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { graphAdjacency, graphDiameter, neighbourhoods, parseAdjacency, readAdjacencyFile } from '../src/programs/neighbourhoods.js';
import { InputError } from '../src/util/errors.js';

const lists = (adj: Int32Array[]): number[][] => adj.map((a) => Array.from(a));

describe('graph neighbourhoods', () => {
  it('ring d = 10: radius 2 gives {i-2, ..., i+2} mod d, sorted; radius 0 gives {i}; diameter 5', () => {
    const adj = graphAdjacency('ring', 10);
    expect(lists(adj)[0]).toEqual([1, 9]);
    expect(lists(adj)[4]).toEqual([3, 5]);
    const N = neighbourhoods(adj, 2);
    for (let i = 0; i < 10; i++) {
      const want = [-2, -1, 0, 1, 2].map((o) => (i + o + 10) % 10).sort((a, b) => a - b);
      expect(Array.from(N[i])).toEqual(want);
    }
    expect(Array.from(N[0])).toEqual([0, 1, 2, 8, 9]);
    expect(lists(neighbourhoods(adj, 0))).toEqual(Array.from({ length: 10 }, (_, i) => [i]));
    expect(graphDiameter(adj)).toBe(5);
    expect(neighbourhoods(adj, 4)[0].length).toBe(9); // one below the diameter: all but the opposite node
  });

  it('torus 5 x 5: 4 neighbours, radius 1 gives 5 nodes, radius 2 gives 13; diameter 4', () => {
    const adj = graphAdjacency('torus', 25);
    expect(Array.from(adj[0])).toEqual([1, 4, 5, 20]);
    expect(Array.from(adj[12])).toEqual([7, 11, 13, 17]);
    for (const a of adj) expect(a.length).toBe(4);
    const N1 = neighbourhoods(adj, 1);
    const N2 = neighbourhoods(adj, 2);
    for (let i = 0; i < 25; i++) {
      expect(N1[i].length).toBe(5);
      expect(N2[i].length).toBe(13);
      expect(Array.from(N2[i])).toEqual(Array.from(N2[i]).sort((a, b) => a - b));
      expect(N2[i]).toContain(i);
    }
    expect(Array.from(N1[12])).toEqual([7, 11, 12, 13, 17]);
    // the L1 ball of radius 2 around (2, 2)
    expect(Array.from(N2[12])).toEqual([2, 6, 7, 8, 10, 11, 12, 13, 14, 16, 17, 18, 22]);
    expect(graphDiameter(adj)).toBe(4);
    expect(graphDiameter(graphAdjacency('torus', 9))).toBe(2);
  });

  it('a custom adjacency (the path 0-1-2-3) in the three JSON forms, and from a file', () => {
    const path4 = [[1], [0, 2], [1, 3], [2]];
    const a = parseAdjacency(path4, 4, 'test');
    expect(lists(a)).toEqual(path4);
    expect(lists(parseAdjacency({ adjacency: [[1], [2, 0], [3, 1], [2]] }, 4, 'test'))).toEqual(path4);
    expect(lists(parseAdjacency({ edges: [[0, 1], [2, 1], [2, 3]], d: 4 }, 4, 'test'))).toEqual(path4);
    expect(lists(neighbourhoods(a, 1))).toEqual([[0, 1], [0, 1, 2], [1, 2, 3], [2, 3]]);
    expect(lists(neighbourhoods(a, 2))).toEqual([[0, 1, 2], [0, 1, 2, 3], [0, 1, 2, 3], [1, 2, 3]]);
    expect(graphDiameter(a)).toBe(3);
    // disconnected: infinite diameter, any radius allowed
    const two = parseAdjacency([[1], [0], [3], [2]], 4, 'test');
    expect(graphDiameter(two)).toBe(Infinity);
    expect(lists(neighbourhoods(two, 7))).toEqual([[0, 1], [0, 1], [2, 3], [2, 3]]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adjacency-'));
    try {
      const file = path.join(dir, 'path.json');
      fs.writeFileSync(file, JSON.stringify({ adjacency: path4 }));
      expect(lists(readAdjacencyFile(file, 4))).toEqual(path4);
      expect(() => readAdjacencyFile(path.join(dir, 'missing.json'), 4)).toThrow(/adjacency file ".*missing.json" not found; check the path/);
      fs.writeFileSync(file, '{"adjacency": [[1], ');
      expect(() => readAdjacencyFile(file, 4)).toThrow(InputError);
      expect(() => readAdjacencyFile(file, 4)).toThrow(/adjacency file ".*path.json" is not valid JSON/);
      fs.writeFileSync(file, JSON.stringify([[1], [0]]));
      expect(() => readAdjacencyFile(file, 4)).toThrow(/adjacency file ".*path.json": the adjacency has 2 lists but the data have d = 4/);
      expect(() => readAdjacencyFile(dir, 4)).toThrow(/is a directory/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('bad input: radius, adjacency and graph errors name the problem and the fix', () => {
    const ring = graphAdjacency('ring', 10);
    const err = (f: () => unknown): string => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        return (e as Error).message;
      }
      throw new Error('expected an InputError');
    };
    expect(err(() => neighbourhoods(ring, 5))).toBe('radius r = 5 reaches the whole graph (diameter 5); use full inputs: leave out --radius');
    expect(err(() => neighbourhoods(ring, 9))).toMatch(/reaches the whole graph \(diameter 5\)/);
    expect(err(() => neighbourhoods(graphAdjacency('torus', 25), 4))).toMatch(/radius r = 4 reaches the whole graph \(diameter 4\)/);
    expect(err(() => neighbourhoods(ring, -1))).toMatch(/radius r = -1; it must be an integer >= 0/);
    expect(err(() => neighbourhoods(ring, 1.5))).toMatch(/radius r = 1.5; it must be an integer >= 0/);
    expect(err(() => neighbourhoods(ring, NaN))).toMatch(/radius r = NaN/);
    expect(err(() => parseAdjacency([[1], [0, 2], [3], [2]], 4, 'adjacency file "g.json"'))).toBe(
      'adjacency file "g.json": node 1 lists 2 as a neighbour but node 2 does not list 1; the graph must be undirected, so add 1 to node 2\'s list or remove 2 from node 1\'s',
    );
    expect(err(() => parseAdjacency([[1], [0, 4], [3], [2]], 4, 'test'))).toMatch(/test: node 1's list holds node 4, out of range; nodes are 0, \.\.\., 3/);
    expect(err(() => parseAdjacency([[1], [0, -1], [3], [2]], 4, 'test'))).toMatch(/node -1, out of range/);
    expect(err(() => parseAdjacency([[1], [0, 1.5], [3], [2]], 4, 'test'))).toMatch(/holds 1\.5, which is not an integer node index/);
    expect(err(() => parseAdjacency([[1], [0, '2'], [3], [2]], 4, 'test'))).toMatch(/holds "2", which is not an integer/);
    expect(err(() => parseAdjacency([[1, 0], [0], [3], [2]], 4, 'test'))).toMatch(/node 0 lists itself; self loops are not allowed.*remove 0 from its list/);
    expect(err(() => parseAdjacency([[1, 1], [0], [3], [2]], 4, 'test'))).toMatch(/node 0 lists 1 twice/);
    expect(err(() => parseAdjacency([[1], [0], [3], [2]], 5, 'test'))).toMatch(/test: the adjacency has 4 lists but the data have d = 5 coordinates; give one neighbour list per coordinate/);
    expect(err(() => parseAdjacency({ adjacency: [[1], [0]] }, 3, 'test'))).toMatch(/"adjacency" has 2 lists but the data have d = 3/);
    expect(err(() => parseAdjacency({ edges: [[0, 1]], d: 3 }, 4, 'test'))).toMatch(/"d" is 3 but the data have d = 4/);
    expect(err(() => parseAdjacency({ edges: [[0, 1]] }, 4, 'test'))).toMatch(/an edge list needs "d"/);
    expect(err(() => parseAdjacency({ edges: [[0, 0]], d: 4 }, 4, 'test'))).toMatch(/edge 0 is the self loop \[0, 0\]/);
    expect(err(() => parseAdjacency({ edges: [[0, 1, 2]], d: 4 }, 4, 'test'))).toMatch(/edge 0 is \[0,1,2\]; each edge must be a pair/);
    expect(err(() => parseAdjacency({ graph: 'ring' }, 4, 'test'))).toMatch(/no "adjacency" or "edges" field/);
    expect(err(() => parseAdjacency('ring', 4, 'test'))).toMatch(/the adjacency is not an array/);
    expect(err(() => parseAdjacency([[1], 0, [3], [2]], 4, 'test'))).toMatch(/the entry of node 1 is not a list/);
    expect(err(() => graphAdjacency('torus', 20))).toMatch(/a torus needs d = side\^2 coordinates with side >= 3.*got d = 20/);
    expect(err(() => graphAdjacency('torus', 4))).toMatch(/side >= 3.*got d = 4/);
    expect(err(() => graphAdjacency('ring', 2))).toMatch(/a ring needs d >= 3/);
    expect(err(() => graphAdjacency('grid' as 'ring', 9))).toMatch(/graph "grid" is not built in; use one of ring, torus/);
  });
});
