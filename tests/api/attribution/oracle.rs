//! The property test's oracle: a tenant's figures recomputed from the generated runs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::figures::text;
use super::generated::{Path, World, folder_name, process_name};

/// What the figures of one tenant over the range should be, recomputed from the runs.
#[derive(Default)]
pub(super) struct Expected {
    pub(super) consumed: i64,
    /// Direct shares per folder (None = no folder) in EXECUTION and OWNERSHIP.
    pub(super) execution: HashMap<Option<usize>, i64>,
    pub(super) ownership: HashMap<Option<usize>, i64>,
    /// EXECUTION: consumption per (folder it ran in, process), and per process.
    pub(super) ran_in: BTreeMap<(usize, usize), i64>,
    pub(super) per_process: BTreeMap<usize, i64>,
    /// OWNERSHIP: consumption per chain-tree node.
    pub(super) nodes: BTreeMap<Path, i64>,
}

impl Expected {
    pub(super) fn of(world: &World, t: usize, from: u32, to: u32) -> Expected {
        let mut expected = Expected::default();
        let process_folder = |p: Option<usize>| p.map(|p| world.processes[t][p]);
        for (r, run) in world.runs.iter().enumerate() {
            if run.tenant != t {
                continue;
            }
            let mut path: Path = vec![run.process];
            let mut root = r;
            while let Some(parent) = world.runs[root].parent {
                root = parent;
                path.insert(0, world.runs[root].process);
            }
            let root = &world.runs[root];
            let ran_in = run.folder.or(process_folder(run.process));
            let owner = process_folder(root.process).or(root.folder);
            for e in &run.events {
                if e.upload || e.day < from || e.day > to {
                    continue;
                }
                expected.consumed += e.quantity;
                *expected.execution.entry(ran_in).or_default() += e.quantity;
                *expected.ownership.entry(owner).or_default() += e.quantity;
                if let (Some(folder), Some(process)) = (ran_in, run.process) {
                    *expected.ran_in.entry((folder, process)).or_default() += e.quantity;
                    *expected.per_process.entry(process).or_default() += e.quantity;
                }
                *expected.nodes.entry(path.clone()).or_default() += e.quantity;
            }
        }
        expected
    }

    pub(super) fn direct(&self, mode: &str) -> &HashMap<Option<usize>, i64> {
        match mode {
            "EXECUTION" => &self.execution,
            _ => &self.ownership,
        }
    }

    pub(super) fn live(&self) -> BTreeSet<Path> {
        let mut live = BTreeSet::new();
        for path in self.nodes.keys() {
            for end in 1..=path.len() {
                live.insert(path[..end].to_vec());
            }
        }
        live
    }

    pub(super) fn subtree(&self, path: &Path) -> i64 {
        self.nodes
            .iter()
            .filter(|(p, _)| p.starts_with(path))
            .map(|(_, q)| q)
            .sum()
    }

    /// The rows below a node: its live children, a process-less child replaced by its own.
    pub(super) fn below(&self, live: &BTreeSet<Path>, path: &Path) -> Vec<Path> {
        let mut rows = Vec::new();
        for child in live.iter().filter(|c| c.len() == path.len() + 1 && c.starts_with(path)) {
            match child.last().unwrap() {
                Some(_) => rows.push(child.clone()),
                None => rows.extend(self.below(live, child)),
            }
        }
        rows
    }

    /// One row: the nodes of one process under one parent row (a process started both
    /// directly and through a process-less run has one row for both).
    pub(super) fn push_process(
        &self,
        out: &mut Vec<String>,
        t: usize,
        live: &BTreeSet<Path>,
        prefix: &str,
        group: &[Path],
    ) {
        let name = process_name(t, group[0].last().unwrap().unwrap());
        let own: i64 = group
            .iter()
            .map(|p| self.nodes.get(p).copied().unwrap_or_default())
            .sum();
        let total: i64 = group.iter().map(|p| self.subtree(p)).sum();
        out.push(format!("{prefix}{name} {}/{}", text(own), text(total)));
        let mut children: BTreeMap<usize, Vec<Path>> = BTreeMap::new();
        for path in group {
            for child in self.below(live, path) {
                children.entry(child.last().unwrap().unwrap()).or_default().push(child);
            }
        }
        for group in children.values() {
            self.push_process(out, t, live, &format!("{prefix}{name} > "), group);
        }
    }

    /// Root processes of the chains, with their expansion.
    pub(super) fn roots(&self) -> Vec<Path> {
        self.live()
            .into_iter()
            .filter(|p| p.len() == 1 && p[0].is_some())
            .collect()
    }

    pub(super) fn process_lines(&self, t: usize, mode: &str) -> Vec<String> {
        let mut out = Vec::new();
        match mode {
            "EXECUTION" => {
                for (p, q) in &self.per_process {
                    out.push(format!("{} {}/{}", process_name(t, *p), text(*q), text(*q)));
                }
            }
            _ => {
                let live = self.live();
                for root in self.roots() {
                    self.push_process(&mut out, t, &live, "", &[root]);
                }
            }
        }
        out
    }

    pub(super) fn folder_total(&self, world: &World, t: usize, mode: &str, f: usize) -> i64 {
        self.direct(mode).get(&Some(f)).copied().unwrap_or_default()
            + (0..world.folders[t].len())
                .filter(|c| world.folders[t][*c] == Some(f))
                .map(|c| self.folder_total(world, t, mode, c))
                .sum::<i64>()
    }

    pub(super) fn push_folder(
        &self,
        out: &mut Vec<String>,
        world: &World,
        t: usize,
        mode: &str,
        parent: &str,
        f: usize,
    ) {
        let name = folder_name(t, f);
        let path = if parent.is_empty() {
            name
        } else {
            format!("{parent}/{name}")
        };
        out.push(format!("{path} {}", text(self.folder_total(world, t, mode, f))));
        match mode {
            "EXECUTION" => {
                for ((folder, p), q) in &self.ran_in {
                    if *folder == f {
                        out.push(format!("{path}: {} {}/{}", process_name(t, *p), text(*q), text(*q)));
                    }
                }
            }
            _ => {
                let live = self.live();
                for root in self.roots() {
                    if world.processes[t][root[0].unwrap()] == f {
                        self.push_process(out, t, &live, &format!("{path}: "), &[root]);
                    }
                }
            }
        }
        for child in (0..world.folders[t].len()).filter(|c| world.folders[t][*c] == Some(f)) {
            self.push_folder(out, world, t, mode, &path, child);
        }
    }

    /// The folder lines without the "no folder" row.
    pub(super) fn folder_lines(&self, world: &World, t: usize, mode: &str) -> Vec<String> {
        let mut out = Vec::new();
        for f in (0..world.folders[t].len()).filter(|f| world.folders[t][*f].is_none()) {
            self.push_folder(&mut out, world, t, mode, "", f);
        }
        out
    }
}
