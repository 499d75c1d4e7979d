//! A small min-cost flow solver: successive shortest paths with Johnson
//! potentials (Dijkstra on reduced costs after one Bellman-Ford pass for the
//! negative costs). It is exact and integral: on a transportation problem with
//! integer capacities the flow it returns is optimal among all flows, fractional
//! ones included, which is what lets the planner prove its travel.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

#[derive(Debug, Clone)]
struct Arc {
    to: u32,
    cap: i64,
    cost: i64,
}

/// A flow network. Arcs are added in pairs (forward, residual backward).
#[derive(Debug, Clone, Default)]
pub struct MinCostFlow {
    arcs: Vec<Arc>,
    out: Vec<Vec<u32>>,
    original_cap: Vec<i64>,
}

impl MinCostFlow {
    pub fn new(nodes: usize) -> Self {
        MinCostFlow { arcs: Vec::new(), out: vec![Vec::new(); nodes], original_cap: Vec::new() }
    }

    pub fn add_node(&mut self) -> usize {
        self.out.push(Vec::new());
        self.out.len() - 1
    }

    /// Adds an arc and returns its id, for [`Self::flow`].
    pub fn add_arc(&mut self, from: usize, to: usize, cap: i64, cost: i64) -> usize {
        let id = self.arcs.len();
        self.arcs.push(Arc { to: to as u32, cap, cost });
        self.arcs.push(Arc { to: from as u32, cap: 0, cost: -cost });
        self.out[from].push(id as u32);
        self.out[to].push(id as u32 + 1);
        self.original_cap.push(cap);
        self.original_cap.push(0);
        id
    }

    /// The flow on an arc added by [`Self::add_arc`].
    pub fn flow(&self, arc: usize) -> i64 {
        self.original_cap[arc] - self.arcs[arc].cap
    }

    /// Sends as much flow as possible from `s` to `t` (at most `limit`), at least
    /// cost, stopping early once another unit would not lower the cost. Returns
    /// (flow, cost).
    pub fn solve(&mut self, s: usize, t: usize, limit: i64) -> (i64, i64) {
        let n = self.out.len();
        let mut pot = self.bellman_ford(s);
        let (mut flow, mut cost) = (0i64, 0i64);
        let mut dist = vec![i64::MAX; n];
        let mut prev = vec![u32::MAX; n];
        while flow < limit {
            dist.iter_mut().for_each(|d| *d = i64::MAX);
            prev.iter_mut().for_each(|p| *p = u32::MAX);
            dist[s] = 0;
            let mut heap = BinaryHeap::new();
            heap.push(Reverse((0i64, s as u32)));
            while let Some(Reverse((d, v))) = heap.pop() {
                let v = v as usize;
                if d > dist[v] {
                    continue;
                }
                for &a in &self.out[v] {
                    let arc = &self.arcs[a as usize];
                    if arc.cap <= 0 {
                        continue;
                    }
                    let w = arc.to as usize;
                    let nd = d + arc.cost + pot[v] - pot[w];
                    if nd < dist[w] {
                        dist[w] = nd;
                        prev[w] = a;
                        heap.push(Reverse((nd, w as u32)));
                    }
                }
            }
            if dist[t] == i64::MAX {
                break;
            }
            for v in 0..n {
                if dist[v] != i64::MAX {
                    pot[v] += dist[v];
                }
            }
            // The true cost of the path is its reduced cost plus pot[t] - pot[s].
            let path_cost = pot[t] - pot[s];
            if path_cost >= 0 {
                break;
            }
            let mut push = limit - flow;
            let mut v = t;
            while v != s {
                let a = prev[v] as usize;
                push = push.min(self.arcs[a].cap);
                v = self.arcs[a ^ 1].to as usize;
            }
            let mut v = t;
            while v != s {
                let a = prev[v] as usize;
                self.arcs[a].cap -= push;
                self.arcs[a ^ 1].cap += push;
                v = self.arcs[a ^ 1].to as usize;
            }
            flow += push;
            cost += push * path_cost;
        }
        (flow, cost)
    }

    /// Shortest distances from `s` over arcs with capacity, as starting
    /// potentials (unreached nodes get 0; they stay unreachable or are reached
    /// later only through arcs whose reduced costs are then kept non-negative
    /// by the potential update).
    fn bellman_ford(&self, s: usize) -> Vec<i64> {
        let n = self.out.len();
        let mut d = vec![i64::MAX; n];
        let mut queued = vec![false; n];
        let mut q = VecDeque::new();
        d[s] = 0;
        q.push_back(s);
        queued[s] = true;
        while let Some(v) = q.pop_front() {
            queued[v] = false;
            for &a in &self.out[v] {
                let arc = &self.arcs[a as usize];
                if arc.cap <= 0 {
                    continue;
                }
                let w = arc.to as usize;
                if d[v] + arc.cost < d[w] {
                    d[w] = d[v] + arc.cost;
                    if !queued[w] {
                        queued[w] = true;
                        q.push_back(w);
                    }
                }
            }
        }
        d.into_iter().map(|x| if x == i64::MAX { 0 } else { x }).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_transportation_problem() {
        // Two supplies (a 3, b 2) and two demands (x 2, y 3); costs
        //   a->x 1, a->y 4, b->x 2, b->y 1.
        // Optimum: a->x 2, a->y 1, b->y 2: cost 2 + 4 + 2 = 8.
        let (s, a, b, x, y, t) = (0, 1, 2, 3, 4, 5);
        let arcs = [
            (s, a, 3, 0),
            (s, b, 2, 0),
            (a, x, 9, 1),
            (a, y, 9, 4),
            (b, x, 9, 2),
            (b, y, 9, 1),
            (x, t, 2, 0),
            (y, t, 3, 0),
        ];
        let mut g = MinCostFlow::new(6);
        for &(f, to, cap, cost) in &arcs {
            g.add_arc(f, to, cap, cost);
        }
        // With no negative cost no unit lowers the cost: nothing flows.
        assert_eq!(g.clone().solve(s, t, 5), (0, 0));
        // A reward of 100 a unit at the source makes every unit worth sending.
        let src = g.add_node();
        let reward = g.add_arc(src, s, 5, -100);
        let (f, c) = g.solve(src, t, 100);
        assert_eq!((f, c), (5, -500 + 8));
        assert_eq!(g.flow(reward), 5);
        let flows: Vec<i64> = (0..arcs.len()).map(|i| g.flow(2 * i)).collect();
        assert_eq!(flows, vec![3, 2, 2, 1, 0, 2, 2, 3]);
    }
}
