//! The property test's input: generated folders, processes and runs, resolved against
//! what exists.

use proptest::prelude::*;
use proptest::sample::Index;

pub(super) const TENANTS: usize = 3;
/// Folders nest at most this deep below a top-level folder.
pub(super) const FOLDER_DEPTH: usize = 2;
/// Chains are at most this many runs long.
pub(super) const CHAIN_LENGTH: usize = 4;

#[derive(Clone, Debug)]
pub(super) struct GenEvent {
    pub(super) day: u32,
    pub(super) quantity: i64,
    pub(super) upload: bool,
    /// A later event of a job repeats the job's facts (else it names only the job).
    pub(super) repeat: bool,
}

#[derive(Clone, Debug)]
pub(super) struct GenRun {
    pub(super) tenant: usize,
    pub(super) job: bool,
    pub(super) parent: Option<Index>,
    pub(super) process: Option<Index>,
    pub(super) folder: Option<Index>,
    pub(super) events: Vec<GenEvent>,
}

#[derive(Clone, Debug)]
pub(super) struct Generated {
    /// Per tenant, per folder: whether it has a parent, and which earlier folder.
    pub(super) folders: Vec<Vec<(bool, Index)>>,
    /// Per tenant, per process: its folder.
    pub(super) processes: Vec<Vec<Index>>,
    pub(super) runs: Vec<GenRun>,
}

pub(super) fn generated() -> impl Strategy<Value = Generated> {
    let folders = prop::collection::vec(prop::collection::vec((any::<bool>(), any::<Index>()), 0..5), TENANTS);
    let processes = prop::collection::vec(prop::collection::vec(any::<Index>(), 0..5), TENANTS);
    let event = (1u32..=22, 0i64..200_000, prop::bool::weighted(0.2), any::<bool>()).prop_map(
        |(day, quantity, upload, repeat)| GenEvent {
            day,
            quantity,
            upload,
            repeat,
        },
    );
    let run = (
        0..TENANTS,
        prop::bool::weighted(0.75),
        prop::option::weighted(0.7, any::<Index>()),
        prop::option::weighted(0.8, any::<Index>()),
        prop::option::weighted(0.5, any::<Index>()),
        prop::collection::vec(event, 1..4),
    )
        .prop_map(|(tenant, job, parent, process, folder, events)| GenRun {
            tenant,
            job,
            parent,
            process,
            folder,
            events,
        });
    (folders, processes, prop::collection::vec(run, 1..30)).prop_map(|(folders, processes, runs)| Generated {
        folders,
        processes,
        runs,
    })
}

/// A run once its choices are resolved against what exists.
#[derive(Clone, Debug)]
pub(super) struct Run {
    pub(super) tenant: usize,
    pub(super) job: bool,
    pub(super) parent: Option<usize>,
    pub(super) process: Option<usize>,
    pub(super) folder: Option<usize>,
    pub(super) events: Vec<GenEvent>,
}

/// The generated world, resolved: folder parents, process folders, runs.
#[derive(Clone, Debug)]
pub(super) struct World {
    pub(super) folders: Vec<Vec<Option<usize>>>,
    pub(super) processes: Vec<Vec<usize>>,
    pub(super) runs: Vec<Run>,
}

impl World {
    pub(super) fn resolve(generated: &Generated) -> World {
        let mut folders = Vec::new();
        let mut processes = Vec::new();
        for t in 0..TENANTS {
            let mut parents: Vec<Option<usize>> = Vec::new();
            for (i, (nested, index)) in generated.folders[t].iter().enumerate() {
                let parent = (*nested && i > 0).then(|| index.index(i));
                // How many levels the parent sits at (a top-level folder: 1).
                let mut levels = 0;
                let mut at = parent;
                while let Some(f) = at {
                    levels += 1;
                    at = parents[f];
                }
                parents.push(parent.filter(|_| levels <= FOLDER_DEPTH));
            }
            let owned = if parents.is_empty() {
                Vec::new()
            } else {
                generated.processes[t].iter().map(|i| i.index(parents.len())).collect()
            };
            folders.push(parents);
            processes.push(owned);
        }
        let mut runs: Vec<Run> = Vec::new();
        for run in &generated.runs {
            let t = run.tenant;
            let parent = if run.job {
                let candidates: Vec<usize> = (0..runs.len())
                    .filter(|&j| runs[j].tenant == t && runs[j].job && chain_length(&runs, j) < CHAIN_LENGTH)
                    .collect();
                run.parent
                    .filter(|_| !candidates.is_empty())
                    .map(|i| candidates[i.index(candidates.len())])
            } else {
                None
            };
            let pick = |choice: Option<Index>, len: usize| choice.filter(|_| len > 0).map(|i| i.index(len));
            runs.push(Run {
                tenant: t,
                job: run.job,
                parent,
                process: pick(run.process, processes[t].len()),
                folder: pick(run.folder, folders[t].len()),
                events: run.events.clone(),
            });
        }
        World {
            folders,
            processes,
            runs,
        }
    }
}

fn chain_length(runs: &[Run], mut at: usize) -> usize {
    let mut length = 1;
    while let Some(parent) = runs[at].parent {
        length += 1;
        at = parent;
    }
    length
}

pub(super) fn folder_name(t: usize, f: usize) -> String {
    format!("t{t}f{f}")
}

pub(super) fn process_name(t: usize, p: usize) -> String {
    format!("t{t}p{p}")
}

/// The path of processes from a run's chain root down to it.
pub(super) type Path = Vec<Option<usize>>;
