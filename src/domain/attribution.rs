//! Who used it (docs/design.md §4): folder and process figures in both attribution modes,
//! computed from the per-day attribution rollup.
//!
//! Runs of a tenant form chains (a run started by another run). Every run sits on a node
//! of the tenant's *merged chain tree*: the path of processes from its chain's root run
//! down to it. Runs with the same path share a node, so OWNERSHIP figures are per-node
//! sums expanded like a call tree, and a process's rolled-up figure is its node's subtree.

use std::collections::{BTreeMap, HashMap, HashSet};

use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::Quantity;

/// How folder and process figures attribute consumption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attribution {
    /// Where it ran: the run's folder, and the process's own events.
    Execution,
    /// Whom it is owed to: the root process of the chain and the folder owning it.
    Ownership,
}

impl Attribution {
    pub const fn as_str(self) -> &'static str {
        match self {
            Attribution::Execution => "EXECUTION",
            Attribution::Ownership => "OWNERSHIP",
        }
    }
}

/// The id of a chain-tree node, derived from what identifies it, so that concurrent
/// writers agree on it without reading first and a repeated insert is a no-op.
pub fn node_id(tenant: Uuid, parent: Option<Uuid>, process: Option<Uuid>) -> Uuid {
    let mut hasher = Sha256::new();
    for part in [Some(tenant), parent, process] {
        hasher.update(part.unwrap_or_default().as_bytes());
    }
    let digest = hasher.finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_custom_bytes(bytes).into_uuid()
}

/// The folder a run executed in: the one it names, else its process's own folder.
pub fn execution_folder(named_folder: Option<Uuid>, process_folder: Option<Uuid>) -> Option<Uuid> {
    named_folder.or(process_folder)
}

/// The folder a chain is owed to, from its root run: the folder owning the root's process,
/// else (a root that names no process) the folder the root ran in.
pub fn owner_folder(root_named_folder: Option<Uuid>, root_process_folder: Option<Uuid>) -> Option<Uuid> {
    root_process_folder.or(root_named_folder)
}

/// Where a run sits in its chain: its node, and the folder the chain is owed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placement {
    pub node: Uuid,
    pub owner: Option<Uuid>,
}

/// What places a run: its tenant, process and the folder it names, and its process's own
/// folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Run {
    pub tenant: Uuid,
    pub process: Option<Uuid>,
    pub folder: Option<Uuid>,
    pub process_folder: Option<Uuid>,
}

/// The job-chain rule, the one ingestion and the backfill place runs by, with the chain
/// nodes the runs placed need (each once).
#[derive(Clone, Debug, Default)]
pub struct Chains {
    nodes: BTreeMap<Uuid, (Uuid, ChainNode)>,
}

impl Chains {
    /// Places a run under its parent run (`None`: the run starts a chain of its own, as a
    /// run without a job does). A child's chain is owed where its root's is.
    pub fn place(&mut self, run: Run, parent: Option<Placement>) -> Placement {
        let parent_node = parent.map(|p| p.node);
        let node = node_id(run.tenant, parent_node, run.process);
        self.nodes.entry(node).or_insert((
            run.tenant,
            ChainNode {
                id: node,
                parent: parent_node,
                process: run.process,
            },
        ));
        let owner = match parent {
            Some(parent) => parent.owner,
            None => owner_folder(run.folder, run.process_folder),
        };
        Placement { node, owner }
    }

    /// The nodes placed, with their tenant, in id order: concurrent writers insert shared
    /// rows in one order, so they wait for each other instead of deadlocking.
    pub fn into_nodes(self) -> Vec<(Uuid, ChainNode)> {
        self.nodes.into_values().collect()
    }
}

/// One rollup sum over a range: consumption of a tenant by run folder, process, owning
/// folder and chain node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AttributedSum {
    pub folder: Option<Uuid>,
    pub process: Option<Uuid>,
    pub owner_folder: Option<Uuid>,
    pub node: Uuid,
    pub quantity: Quantity,
}

/// A folder of the tree: its id and its parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FolderNode {
    pub id: Uuid,
    pub parent: Option<Uuid>,
}

/// A node of the merged chain tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainNode {
    pub id: Uuid,
    pub parent: Option<Uuid>,
    pub process: Option<Uuid>,
}

/// A process's figures. In EXECUTION `consumed` equals `own` and there are no children;
/// in OWNERSHIP `consumed` is its node's whole subtree and `children` the processes its
/// runs started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessFigure {
    pub process: Uuid,
    pub own: Quantity,
    pub consumed: Quantity,
    pub children: Vec<ProcessFigure>,
}

/// A folder's figures, its subfolders included; `folder: None` is the "no folder" row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FolderFigure {
    pub folder: Option<Uuid>,
    pub consumed: Quantity,
    pub children: Vec<FolderFigure>,
    pub processes: Vec<ProcessFigure>,
}

/// Everything the figures are computed from, for one or more tenants and one range.
#[derive(Clone, Debug, Default)]
pub struct AttributionInput {
    /// Every folder of the tenants, in creation order.
    pub folders: Vec<FolderNode>,
    /// Every chain node of the tenants.
    pub nodes: Vec<ChainNode>,
    /// The folder owning each process that appears in `sums`.
    pub process_folders: HashMap<Uuid, Uuid>,
    pub sums: Vec<AttributedSum>,
}

/// Largest first; equal figures in a stable order (by id).
fn by_consumption(a: &ProcessFigure, b: &ProcessFigure) -> std::cmp::Ordering {
    b.consumed.cmp(&a.consumed).then(a.process.cmp(&b.process))
}

/// The top-level process figures: in EXECUTION every process that ran, in OWNERSHIP every
/// root process of a chain; largest first.
pub fn processes(mode: Attribution, input: &AttributionInput) -> Vec<ProcessFigure> {
    match mode {
        Attribution::Execution => execution_processes_from_lists(&list_sums(&input.sums)),
        Attribution::Ownership => ChainTree::new(input).roots(),
    }
}

/// The top-level folders, largest first, then the "no folder" row. Each folder's figure
/// includes its subfolders, so the rows add up to every sum of the input.
pub fn folders(mode: Attribution, input: &AttributionInput) -> Vec<FolderFigure> {
    let known = known_folders(&input.folders);
    let place = |folder: Option<Uuid>| place(&known, folder);

    let mut direct: HashMap<Option<Uuid>, Quantity> = HashMap::new();
    let mut processes_in: HashMap<Option<Uuid>, Vec<ProcessFigure>> = HashMap::new();
    match mode {
        Attribution::Execution => {
            let mut own: BTreeMap<(Option<Uuid>, Uuid), Quantity> = BTreeMap::new();
            for sum in &input.sums {
                let folder = place(sum.folder);
                *direct.entry(folder).or_default() += sum.quantity;
                if let Some(process) = sum.process {
                    *own.entry((folder, process)).or_default() += sum.quantity;
                }
            }
            for ((folder, process), own) in own {
                processes_in.entry(folder).or_default().push(ProcessFigure {
                    process,
                    own,
                    consumed: own,
                    children: Vec::new(),
                });
            }
        }
        Attribution::Ownership => {
            for sum in &input.sums {
                *direct.entry(place(sum.owner_folder)).or_default() += sum.quantity;
            }
            for root in ChainTree::new(input).roots() {
                let folder = place(input.process_folders.get(&root.process).copied());
                processes_in.entry(folder).or_default().push(root);
            }
        }
    }
    for list in processes_in.values_mut() {
        list.sort_by(by_consumption);
    }
    folder_tree(&input.folders, &direct, processes_in)
}

/// Which list of a view a [`ListSum`] is in: what it sums by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum List {
    /// By the folder the runs executed in: EXECUTION folder figures.
    RunFolder,
    /// By the folder the runs' chains are owed to: OWNERSHIP folder figures.
    OwnerFolder,
    /// By process: EXECUTION process figures.
    Process,
}

impl List {
    pub const ALL: [List; 3] = [List::RunFolder, List::OwnerFolder, List::Process];

    /// How the rollup stores it.
    pub fn number(self) -> i16 {
        match self {
            List::RunFolder => 0,
            List::OwnerFolder => 1,
            List::Process => 2,
        }
    }

    pub fn from_number(number: i16) -> Option<List> {
        List::ALL.into_iter().find(|list| list.number() == number)
    }

    /// The item an attributed sum counts for in this list.
    pub fn item(self, sum: &AttributedSum) -> Option<Uuid> {
        match self {
            List::RunFolder => sum.folder,
            List::OwnerFolder => sum.owner_folder,
            List::Process => sum.process,
        }
    }
}

/// One list's sum over a range: a tenant's consumption by one run folder, owning folder or
/// process (`None`: none). Each list alone adds up to the whole consumption.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListSum {
    pub list: List,
    pub item: Option<Uuid>,
    pub quantity: Quantity,
}

/// Each attributed sum in each list.
pub fn list_sums(sums: &[AttributedSum]) -> Vec<ListSum> {
    sums.iter()
        .flat_map(|sum| {
            List::ALL.map(|list| ListSum {
                list,
                item: list.item(sum),
                quantity: sum.quantity,
            })
        })
        .collect()
}

/// [`folders`] from the lists' sums: the same rows and figures, without the processes in
/// each folder (a list by folder does not say which processes ran or are owed there).
pub fn folders_from_lists(mode: Attribution, folders: &[FolderNode], sums: &[ListSum]) -> Vec<FolderFigure> {
    let known = known_folders(folders);
    let list = match mode {
        Attribution::Execution => List::RunFolder,
        Attribution::Ownership => List::OwnerFolder,
    };
    let mut direct: HashMap<Option<Uuid>, Quantity> = HashMap::new();
    for sum in sums.iter().filter(|s| s.list == list) {
        *direct.entry(place(&known, sum.item)).or_default() += sum.quantity;
    }
    folder_tree(folders, &direct, HashMap::new())
}

/// [`processes`] in EXECUTION from the lists' sums: the same rows and figures.
pub fn execution_processes_from_lists(sums: &[ListSum]) -> Vec<ProcessFigure> {
    let mut own: BTreeMap<Uuid, Quantity> = BTreeMap::new();
    for sum in sums.iter().filter(|s| s.list == List::Process) {
        if let Some(process) = sum.item {
            *own.entry(process).or_default() += sum.quantity;
        }
    }
    let mut figures: Vec<ProcessFigure> = own
        .into_iter()
        .map(|(process, own)| ProcessFigure {
            process,
            own,
            consumed: own,
            children: Vec::new(),
        })
        .collect();
    figures.sort_by(by_consumption);
    figures
}

fn known_folders(folders: &[FolderNode]) -> HashMap<Uuid, Option<Uuid>> {
    folders.iter().map(|f| (f.id, f.parent)).collect()
}

/// A sum naming a folder outside the tree (never expected) stays in the totals as "no folder".
fn place(known: &HashMap<Uuid, Option<Uuid>>, folder: Option<Uuid>) -> Option<Uuid> {
    folder.filter(|f| known.contains_key(f))
}

/// The folder rows from each folder's direct consumption and processes: top-level folders
/// largest first, each with its subfolders, then the "no folder" row.
fn folder_tree(
    folders: &[FolderNode],
    direct: &HashMap<Option<Uuid>, Quantity>,
    mut processes_in: HashMap<Option<Uuid>, Vec<ProcessFigure>>,
) -> Vec<FolderFigure> {
    let known = known_folders(folders);
    let mut children: HashMap<Option<Uuid>, Vec<Uuid>> = HashMap::new();
    for folder in folders {
        children.entry(folder.parent).or_default().push(folder.id);
    }
    fn build(
        id: Uuid,
        children: &HashMap<Option<Uuid>, Vec<Uuid>>,
        direct: &HashMap<Option<Uuid>, Quantity>,
        processes_in: &mut HashMap<Option<Uuid>, Vec<ProcessFigure>>,
    ) -> FolderFigure {
        let mut subfolders: Vec<FolderFigure> = children
            .get(&Some(id))
            .into_iter()
            .flatten()
            .map(|child| build(*child, children, direct, processes_in))
            .collect();
        subfolders.sort_by_key(|f| std::cmp::Reverse(f.consumed));
        let consumed = direct.get(&Some(id)).copied().unwrap_or_default() + subfolders.iter().map(|c| c.consumed).sum();
        FolderFigure {
            folder: Some(id),
            consumed,
            children: subfolders,
            processes: processes_in.remove(&Some(id)).unwrap_or_default(),
        }
    }
    let mut top: Vec<FolderFigure> = folders
        .iter()
        .filter(|f| f.parent.is_none_or(|p| !known.contains_key(&p)))
        .map(|f| build(f.id, &children, direct, &mut processes_in))
        .collect();
    top.sort_by_key(|f| std::cmp::Reverse(f.consumed));
    top.push(FolderFigure {
        folder: None,
        consumed: direct.get(&None).copied().unwrap_or_default(),
        children: Vec::new(),
        processes: processes_in.remove(&None).unwrap_or_default(),
    });
    top
}

/// A folder's row in the figures of [`folders`], found anywhere in the tree.
pub fn find_folder(figures: &[FolderFigure], folder: Uuid) -> Option<&FolderFigure> {
    figures.iter().find_map(|f| {
        if f.folder == Some(folder) {
            Some(f)
        } else {
            find_folder(&f.children, folder)
        }
    })
}

/// The folders of the rollup a folder row counts, as [`folders`] places sums: the folder
/// and its subfolders, or, on the "no folder" row, none and any folder outside the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CountedFolders {
    Subtree(HashSet<Uuid>),
    Unplaced { known: HashSet<Uuid> },
}

impl CountedFolders {
    /// What the row of `row` (`None`: the "no folder" row) counts, in the tree `folders`.
    pub fn of(folders: &[FolderNode], row: Option<Uuid>) -> Self {
        let Some(root) = row else {
            return CountedFolders::Unplaced {
                known: folders.iter().map(|f| f.id).collect(),
            };
        };
        let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for folder in folders {
            if let Some(parent) = folder.parent {
                children.entry(parent).or_default().push(folder.id);
            }
        }
        let mut subtree = HashSet::new();
        let mut next = vec![root];
        while let Some(id) = next.pop() {
            if subtree.insert(id) {
                next.extend(children.get(&id).into_iter().flatten());
            }
        }
        CountedFolders::Subtree(subtree)
    }

    /// Whether a sum naming `folder` (`None`: no folder) counts in the row.
    pub fn counts(&self, folder: Option<Uuid>) -> bool {
        match self {
            CountedFolders::Subtree(ids) => folder.is_some_and(|f| ids.contains(&f)),
            CountedFolders::Unplaced { known } => folder.is_none_or(|f| !known.contains(&f)),
        }
    }
}

/// One row per process: rows lifted from below a run that named no process join the row
/// of the same process started directly, so a process never shows twice under one parent.
fn merge(figures: Vec<ProcessFigure>) -> Vec<ProcessFigure> {
    let mut merged: Vec<ProcessFigure> = Vec::new();
    for figure in figures {
        match merged.iter_mut().find(|m| m.process == figure.process) {
            Some(row) => {
                row.own += figure.own;
                row.consumed += figure.consumed;
                let children = std::mem::take(&mut row.children);
                row.children = merge(children.into_iter().chain(figure.children).collect());
            }
            None => merged.push(figure),
        }
    }
    merged.sort_by(by_consumption);
    merged
}

/// The merged chain tree with the sums of a range on its nodes.
struct ChainTree<'a> {
    nodes: HashMap<Uuid, &'a ChainNode>,
    children: HashMap<Uuid, Vec<Uuid>>,
    own: HashMap<Uuid, Quantity>,
    roots: Vec<Uuid>,
}

impl<'a> ChainTree<'a> {
    fn new(input: &'a AttributionInput) -> Self {
        let nodes: HashMap<Uuid, &ChainNode> = input.nodes.iter().map(|n| (n.id, n)).collect();
        let mut own: HashMap<Uuid, Quantity> = HashMap::new();
        for sum in &input.sums {
            *own.entry(sum.node).or_default() += sum.quantity;
        }
        // Only nodes on the path to some consumption in the range take part.
        let mut live: HashSet<Uuid> = HashSet::new();
        for id in own.keys() {
            let mut at = Some(*id);
            while let Some(id) = at {
                if !live.insert(id) {
                    break;
                }
                at = nodes.get(&id).and_then(|n| n.parent);
            }
        }
        let mut children: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        let mut roots = Vec::new();
        for id in &live {
            match nodes.get(id).and_then(|n| n.parent) {
                Some(parent) => children.entry(parent).or_default().push(*id),
                None => roots.push(*id),
            }
        }
        ChainTree {
            nodes,
            children,
            own,
            roots,
        }
    }

    fn process(&self, id: Uuid) -> Option<Uuid> {
        self.nodes.get(&id).and_then(|n| n.process)
    }

    /// The whole subtree's consumption.
    fn total(&self, id: Uuid) -> Quantity {
        self.own.get(&id).copied().unwrap_or_default()
            + self
                .children
                .get(&id)
                .into_iter()
                .flatten()
                .map(|child| self.total(*child))
                .sum()
    }

    /// The figures of the processes below a node. Runs that named no process have no row:
    /// their consumption stays in the ancestor's `consumed`, and the processes they
    /// started are shown one level up.
    fn below(&self, id: Uuid) -> Vec<ProcessFigure> {
        let mut figures = Vec::new();
        for child in self.children.get(&id).into_iter().flatten() {
            match self.process(*child) {
                Some(process) => figures.push(self.figure(*child, process)),
                None => figures.extend(self.below(*child)),
            }
        }
        merge(figures)
    }

    fn figure(&self, id: Uuid, process: Uuid) -> ProcessFigure {
        ProcessFigure {
            process,
            own: self.own.get(&id).copied().unwrap_or_default(),
            consumed: self.total(id),
            children: self.below(id),
        }
    }

    /// Chains whose root run names a process, one row per root process.
    fn roots(&self) -> Vec<ProcessFigure> {
        let mut figures: Vec<ProcessFigure> = self
            .roots
            .iter()
            .filter_map(|root| self.process(*root).map(|process| self.figure(*root, process)))
            .collect();
        figures.sort_by(by_consumption);
        figures
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chains_place_runs_by_path_and_owe_a_chain_to_its_root() {
        let (tenant, f_root, f_named, f_child) = (
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            Uuid::from_u128(3),
            Uuid::from_u128(4),
        );
        let (p_root, p_child) = (Uuid::from_u128(10), Uuid::from_u128(11));
        let mut chains = Chains::default();
        let root_run = Run {
            tenant,
            process: Some(p_root),
            folder: Some(f_named),
            process_folder: Some(f_root),
        };
        let root = chains.place(root_run, None);
        // The root's process's folder owns the chain, not the folder the run named.
        assert_eq!(root.owner, Some(f_root));
        let child_run = Run {
            tenant,
            process: Some(p_child),
            folder: None,
            process_folder: Some(f_child),
        };
        let child = chains.place(child_run, Some(root));
        assert_eq!(child.owner, Some(f_root), "a child is owed where its root is");
        assert_eq!(child.node, node_id(tenant, Some(root.node), Some(p_child)));
        // The same path again shares its node; a run with no process is owed to its named folder.
        assert_eq!(chains.place(child_run, Some(root)), child);
        let loose = chains.place(
            Run {
                tenant,
                process: None,
                folder: Some(f_named),
                process_folder: None,
            },
            None,
        );
        assert_eq!(loose.owner, Some(f_named));
        let nodes = chains.into_nodes();
        assert_eq!(nodes.len(), 3);
        assert!(
            nodes.windows(2).all(|w| w[0].1.id < w[1].1.id),
            "nodes come in id order"
        );
        assert!(nodes.iter().any(|(t, n)| *t == tenant && n.parent == Some(root.node)));
    }

    fn q(units: i64) -> Quantity {
        Quantity::from_units(units)
    }

    fn id(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    /// Folders: F1 (top) ⊃ F2; F3 (top). Processes: P1 owned by F1, P2 by F3, P3 by F2.
    /// Chain: a P1 run in F1 starts a P2 run in F3, which starts a P3 run in F2.
    /// Plus a lone P2 run, a run naming no process in F3, and usage with no folder.
    fn input() -> AttributionInput {
        let (f1, f2, f3) = (id(1), id(2), id(3));
        let (p1, p2, p3) = (id(11), id(12), id(13));
        let tenant = id(100);
        let n1 = node_id(tenant, None, Some(p1));
        let n12 = node_id(tenant, Some(n1), Some(p2));
        let n123 = node_id(tenant, Some(n12), Some(p3));
        let n2 = node_id(tenant, None, Some(p2));
        let none = node_id(tenant, None, None);
        let sum = |folder, process, owner, node, units| AttributedSum {
            folder,
            process,
            owner_folder: owner,
            node,
            quantity: q(units),
        };
        AttributionInput {
            folders: vec![
                FolderNode { id: f1, parent: None },
                FolderNode {
                    id: f2,
                    parent: Some(f1),
                },
                FolderNode { id: f3, parent: None },
            ],
            nodes: vec![
                ChainNode {
                    id: n1,
                    parent: None,
                    process: Some(p1),
                },
                ChainNode {
                    id: n12,
                    parent: Some(n1),
                    process: Some(p2),
                },
                ChainNode {
                    id: n123,
                    parent: Some(n12),
                    process: Some(p3),
                },
                ChainNode {
                    id: n2,
                    parent: None,
                    process: Some(p2),
                },
                ChainNode {
                    id: none,
                    parent: None,
                    process: None,
                },
            ],
            process_folders: [(p1, f1), (p2, f3), (p3, f2)].into_iter().collect(),
            sums: vec![
                sum(Some(f1), Some(p1), Some(f1), n1, 10),
                sum(Some(f3), Some(p2), Some(f1), n12, 20),
                sum(Some(f2), Some(p3), Some(f1), n123, 30),
                sum(Some(f3), Some(p2), Some(f3), n2, 5),
                sum(Some(f3), None, Some(f3), none, 7),
                sum(None, None, None, none, 4),
            ],
        }
    }

    fn flat(figures: &[FolderFigure]) -> Vec<(Option<u128>, i64)> {
        figures
            .iter()
            .map(|f| (f.folder.map(|u| u.as_u128()), f.consumed.scaled() / 10_000))
            .collect()
    }

    #[test]
    fn execution_folders_count_where_it_ran() {
        let folders = folders(Attribution::Execution, &input());
        // F1 = 10 + F2's 30; F3 = 20 + 5 + 7; no folder = 4.
        assert_eq!(flat(&folders), vec![(Some(1), 40), (Some(3), 32), (None, 4)]);
        assert_eq!(flat(&folders[0].children), vec![(Some(2), 30)]);
        let f3: Vec<_> = folders[1].processes.iter().map(|p| (p.process, p.own)).collect();
        assert_eq!(f3, vec![(id(12), q(25))]);
    }

    #[test]
    fn ownership_folders_count_the_root_owner() {
        let folders = folders(Attribution::Ownership, &input());
        // F1 owns the whole P1 chain (60); F3 owns the lone P2 run and the process-less run.
        assert_eq!(flat(&folders), vec![(Some(1), 60), (Some(3), 12), (None, 4)]);
        assert_eq!(flat(&folders[0].children), vec![(Some(2), 0)]);
        let roots: Vec<_> = folders[0].processes.iter().map(|p| (p.process, p.consumed)).collect();
        assert_eq!(roots, vec![(id(11), q(60))]);
    }

    #[test]
    fn a_folder_row_counts_its_subtree_and_the_no_folder_row_the_rest() {
        let input = input();
        let execution = folders(Attribution::Execution, &input);
        assert_eq!(find_folder(&execution, id(2)).map(|f| f.consumed), Some(q(30)));
        assert!(find_folder(&execution, id(9)).is_none());
        let f1 = CountedFolders::of(&input.folders, Some(id(1)));
        assert!(f1.counts(Some(id(1))) && f1.counts(Some(id(2))));
        assert!(!f1.counts(Some(id(3))) && !f1.counts(None));
        let none = CountedFolders::of(&input.folders, None);
        assert!(
            none.counts(None) && none.counts(Some(id(9))),
            "a folder outside the tree counts as none"
        );
        assert!(!none.counts(Some(id(2))));
        // Summing the sums a row counts gives the row's figure, in both modes.
        for mode in [Attribution::Execution, Attribution::Ownership] {
            let figures = folders(mode, &input);
            let rows = figures.iter().chain(figures.iter().flat_map(|f| &f.children));
            for (row, consumed) in rows.map(|f| (f.folder, f.consumed)) {
                let counted = CountedFolders::of(&input.folders, row);
                let total: Quantity = input
                    .sums
                    .iter()
                    .filter(|s| {
                        counted.counts(match mode {
                            Attribution::Execution => s.folder,
                            Attribution::Ownership => s.owner_folder,
                        })
                    })
                    .map(|s| s.quantity)
                    .sum();
                assert_eq!(total, consumed, "{mode:?} {row:?}");
            }
        }
    }

    /// The figures without their processes, as the lists give them.
    fn without_processes(figures: Vec<FolderFigure>) -> Vec<FolderFigure> {
        figures
            .into_iter()
            .map(|f| FolderFigure {
                children: without_processes(f.children),
                processes: Vec::new(),
                ..f
            })
            .collect()
    }

    #[test]
    fn the_lists_give_the_same_folder_and_execution_process_figures() {
        let input = input();
        let lists = list_sums(&input.sums);
        for list in List::ALL {
            assert_eq!(List::from_number(list.number()), Some(list));
            let total: Quantity = lists.iter().filter(|s| s.list == list).map(|s| s.quantity).sum();
            assert_eq!(total, q(76), "each list adds up to the whole: {list:?}");
        }
        for mode in [Attribution::Execution, Attribution::Ownership] {
            assert_eq!(
                folders_from_lists(mode, &input.folders, &lists),
                without_processes(folders(mode, &input)),
                "{mode:?}"
            );
        }
        assert_eq!(
            execution_processes_from_lists(&lists),
            processes(Attribution::Execution, &input)
        );
        // A sum naming a folder outside the tree counts on the "no folder" row, as in `folders`.
        let stray = [ListSum {
            list: List::RunFolder,
            item: Some(id(9)),
            quantity: q(2),
        }];
        let figures = folders_from_lists(Attribution::Execution, &input.folders, &stray);
        assert_eq!(flat(&figures), vec![(Some(1), 0), (Some(3), 0), (None, 2)]);
    }

    #[test]
    fn ownership_processes_roll_up_their_chains() {
        let roots = processes(Attribution::Ownership, &input());
        assert_eq!(roots.len(), 2);
        let p1 = &roots[0];
        assert_eq!((p1.process, p1.own, p1.consumed), (id(11), q(10), q(60)));
        let p2 = &p1.children[0];
        assert_eq!((p2.process, p2.own, p2.consumed), (id(12), q(20), q(50)));
        assert_eq!((p2.children[0].process, p2.children[0].consumed), (id(13), q(30)));
        assert_eq!(
            (roots[1].process, roots[1].own, roots[1].consumed),
            (id(12), q(5), q(5))
        );
    }

    #[test]
    fn execution_processes_are_their_own_events() {
        let list = processes(Attribution::Execution, &input());
        let rows: Vec<_> = list.iter().map(|p| (p.process, p.own, p.consumed)).collect();
        assert_eq!(
            rows,
            vec![(id(13), q(30), q(30)), (id(12), q(25), q(25)), (id(11), q(10), q(10))]
        );
        assert!(list.iter().all(|p| p.children.is_empty()));
    }

    #[test]
    fn a_run_naming_no_process_lifts_what_it_started() {
        let tenant = id(100);
        let (p1, p2) = (id(11), id(12));
        let root = node_id(tenant, None, Some(p1));
        let anonymous = node_id(tenant, Some(root), None);
        let grandchild = node_id(tenant, Some(anonymous), Some(p2));
        let sum = |node, units| AttributedSum {
            folder: None,
            process: None,
            owner_folder: None,
            node,
            quantity: q(units),
        };
        let input = AttributionInput {
            nodes: vec![
                ChainNode {
                    id: root,
                    parent: None,
                    process: Some(p1),
                },
                ChainNode {
                    id: anonymous,
                    parent: Some(root),
                    process: None,
                },
                ChainNode {
                    id: grandchild,
                    parent: Some(anonymous),
                    process: Some(p2),
                },
            ],
            sums: vec![sum(root, 1), sum(anonymous, 2), sum(grandchild, 3)],
            ..Default::default()
        };
        let roots = processes(Attribution::Ownership, &input);
        assert_eq!((roots[0].own, roots[0].consumed), (q(1), q(6)));
        assert_eq!(roots[0].children.len(), 1);
        assert_eq!(
            (roots[0].children[0].process, roots[0].children[0].consumed),
            (p2, q(3))
        );
    }

    #[test]
    fn a_process_started_both_directly_and_through_an_anonymous_run_has_one_row() {
        let tenant = id(100);
        let (p1, p2) = (id(11), id(12));
        let root = node_id(tenant, None, Some(p1));
        let direct = node_id(tenant, Some(root), Some(p2));
        let anonymous = node_id(tenant, Some(root), None);
        let lifted = node_id(tenant, Some(anonymous), Some(p2));
        let node = |id, parent, process| ChainNode { id, parent, process };
        let sum = |node, units| AttributedSum {
            folder: None,
            process: None,
            owner_folder: None,
            node,
            quantity: q(units),
        };
        let input = AttributionInput {
            nodes: vec![
                node(root, None, Some(p1)),
                node(direct, Some(root), Some(p2)),
                node(anonymous, Some(root), None),
                node(lifted, Some(anonymous), Some(p2)),
            ],
            sums: vec![sum(root, 1), sum(direct, 8), sum(anonymous, 4), sum(lifted, 2)],
            ..Default::default()
        };
        let roots = processes(Attribution::Ownership, &input);
        assert_eq!(roots[0].consumed, q(15));
        let children: Vec<_> = roots[0]
            .children
            .iter()
            .map(|c| (c.process, c.own, c.consumed))
            .collect();
        assert_eq!(children, vec![(p2, q(10), q(10))]);
    }

    #[test]
    fn node_ids_depend_on_every_part() {
        let (t, p) = (id(1), id(2));
        let root = node_id(t, None, Some(p));
        assert_eq!(root, node_id(t, None, Some(p)));
        assert_ne!(root, node_id(t, None, None));
        assert_ne!(root, node_id(id(3), None, Some(p)));
        assert_ne!(root, node_id(t, Some(root), Some(p)));
    }
}
