//! The nested organization → tenants → folders → processes query: every row of every
//! level answered, each parent's page cut at its own `first`, and a statement count per
//! level that does not grow with the number of tenants, folders and processes.

use serde_json::{Value, json};

use crate::helpers::{
    DEFAULT_NOW, SYSTEM_KEY, TestApp, create_folder, create_process, organization_with_license, tenant,
};

const TREE: &str = "query($o: ID!, $first: Int) { organization(id: $o) {
  tenants(first: 100) { nodes { name
    folders(first: $first) { pageInfo { hasNextPage } nodes { name
      children(first: $first) { nodes { name processes(first: $first) { nodes { name } } } }
      processes(first: $first) { pageInfo { hasNextPage } nodes { name } }
    } }
  } }
} }";

/// Adds `tenants` tenants, each with `folders` top-level folders holding a subfolder and
/// `processes` processes each (the subfolder too). Returns the names expected per tenant.
async fn grow(app: &TestApp, org: &str, prefix: &str, tenants: usize, folders: usize, processes: usize) {
    for t in 0..tenants {
        let tenant = tenant(app, org, &format!("{prefix}{t}")).await;
        for f in 0..folders {
            let folder = create_folder(app, &tenant, None, &format!("f{f}")).await;
            let child = create_folder(app, &tenant, Some(&folder), &format!("f{f}/sub")).await;
            for p in 0..processes {
                for owner in [&folder, &child] {
                    create_process(app, owner, &format!("p{p}")).await;
                }
            }
        }
    }
}

/// The tree's answer and the statements it cost.
async fn tree(app: &TestApp, org: &str, first: usize) -> (Value, u64) {
    // Past this age nothing kept in memory is answered (docs/design.md §11): all is read.
    tokio::time::sleep(quotagraph::service::memo::MAX_AGE).await;
    let before = app.statements.get();
    let data = app.ok(SYSTEM_KEY, TREE, json!({ "o": org, "first": first })).await;
    (data, app.statements.get() - before)
}

fn names(list: &Value) -> Vec<&str> {
    list["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn the_tree_costs_a_statement_per_level_whatever_its_size() {
    // The period watcher would add its own statements to the count: keep it quiet.
    let app = TestApp::spawn_with(DEFAULT_NOW, 3_600_000).await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    grow(&app, &fx.org, "small", 2, 2, 1).await;
    // Pages of 10 hold every level here; four nested pages of 100 cost past the limit.
    let (small, small_cost) = tree(&app, &fx.org, 10).await;
    assert_eq!(small["organization"]["tenants"]["nodes"].as_array().unwrap().len(), 2);

    grow(&app, &fx.org, "large", 6, 4, 3).await;
    let (large, large_cost) = tree(&app, &fx.org, 10).await;
    let tenants = large["organization"]["tenants"]["nodes"].as_array().unwrap();
    assert_eq!(tenants.len(), 8);
    for t in tenants {
        let expected = if t["name"].as_str().unwrap().starts_with("small") {
            2
        } else {
            4
        };
        let processes = if expected == 2 { 1 } else { 3 };
        let folders = t["folders"]["nodes"].as_array().unwrap();
        assert_eq!(folders.len(), expected, "{t:#}");
        for folder in folders {
            let name = folder["name"].as_str().unwrap();
            assert_eq!(names(&folder["processes"]).len(), processes);
            let children = folder["children"]["nodes"].as_array().unwrap();
            assert_eq!(children.len(), 1);
            assert_eq!(children[0]["name"], format!("{name}/sub"));
            assert_eq!(names(&children[0]["processes"]).len(), processes);
        }
    }
    assert_eq!(
        small_cost, large_cost,
        "statements for 26 folders: {small_cost}, for 116: {large_cost}"
    );
    // The query's depth is 10: a statement per level it lists, the key and the organization.
    assert!(large_cost <= 8, "{large_cost} statements for the tree");

    // Pages are cut per parent: `first: 2` of 4 folders and 3 processes says there are more.
    let (paged, _) = tree(&app, &fx.org, 2).await;
    for t in paged["organization"]["tenants"]["nodes"].as_array().unwrap() {
        let large = t["name"].as_str().unwrap().starts_with("large");
        assert_eq!(t["folders"]["nodes"].as_array().unwrap().len(), 2);
        assert_eq!(t["folders"]["pageInfo"]["hasNextPage"], large);
        for folder in t["folders"]["nodes"].as_array().unwrap() {
            assert_eq!(folder["processes"]["pageInfo"]["hasNextPage"], large);
            assert_eq!(
                names(&folder["processes"]),
                if large { vec!["p0", "p1"] } else { vec!["p0"] }
            );
        }
    }
    app.finish().await;
}
