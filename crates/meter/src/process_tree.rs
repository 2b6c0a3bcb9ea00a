//! The descendants of this process, read from `/proc`: what an external command's process tree
//! spends in CPU time and holds in memory, and which of its processes are still running.

use std::collections::HashMap;

/// One process of the table: its parent, CPU ticks (own + reaped children's) and name.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcStat {
    /// Process id.
    pub pid: u32,
    /// Parent process id.
    pub ppid: u32,
    /// utime + stime + cutime + cstime, in clock ticks.
    pub ticks: u64,
    /// The command name (`comm`).
    pub name: String,
}

/// Reads `/proc/<pid>/stat` text: pid, parent, ticks and name; `None` if it is not one.
pub fn parse_stat(text: &str) -> Option<ProcStat> {
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let pid = text[..open].trim().parse().ok()?;
    let name = text.get(open + 1..close)?.to_string();
    // Fields after "(comm)": state is field 3, ppid 4, utime 14, stime 15, cutime 16, cstime 17.
    let f: Vec<&str> = text.get(close + 1..)?.split_ascii_whitespace().collect();
    let num = |i: usize| f.get(i).and_then(|v| v.parse::<i64>().ok());
    let ticks = [num(11)?, num(12)?, num(13)?, num(14)?]
        .iter()
        .map(|&t| t.max(0) as u64)
        .sum();
    Some(ProcStat {
        pid,
        ppid: num(1)?.max(0) as u32,
        ticks,
        name,
    })
}

/// Every readable process of `/proc`.
fn all_processes() -> Vec<ProcStat> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| {
        let e = e.ok()?;
        e.file_name().to_str()?.parse::<u32>().ok()?;
        let text = std::fs::read_to_string(e.path().join("stat")).ok()?;
        parse_stat(&text)
    })
    .collect()
}

/// The processes below `root` in `table` (root left out), parents before children.
pub fn below(root: u32, table: &[ProcStat]) -> Vec<ProcStat> {
    let mut children: HashMap<u32, Vec<&ProcStat>> = HashMap::new();
    for p in table {
        children.entry(p.ppid).or_default().push(p);
    }
    let mut out = Vec::new();
    let mut queue = vec![root];
    while let Some(pid) = queue.pop() {
        for c in children.get(&pid).into_iter().flatten() {
            if c.pid != root && !out.iter().any(|o: &ProcStat| o.pid == c.pid) {
                queue.push(c.pid);
                out.push((*c).clone());
            }
        }
    }
    out
}

/// The live descendants of this process.
pub fn descendants() -> Vec<ProcStat> {
    below(std::process::id(), &all_processes())
}

/// CPU seconds of this process's descendants: the reaped ones (`RUSAGE_CHILDREN`) plus the
/// live ones with what they reaped themselves.
pub fn descendants_cpu_seconds(clk_tck: f64) -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: valid pointer to a rusage; RUSAGE_CHILDREN is always valid.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    let reaped = if rc == 0 {
        tv(ru.ru_utime) + tv(ru.ru_stime)
    } else {
        0.0
    };
    let live: u64 = descendants().iter().map(|p| p.ticks).sum();
    reaped + live as f64 / clk_tck
}

/// Resident pages of this process's live descendants.
pub fn descendants_resident_pages() -> u64 {
    descendants()
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{}/statm", p.pid)).ok())
        .filter_map(|t| t.split_ascii_whitespace().nth(1)?.parse::<u64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stat(pid: u32, ppid: u32, ticks: u64) -> ProcStat {
        ProcStat {
            pid,
            ppid,
            ticks,
            name: format!("p{pid}"),
        }
    }

    #[test]
    fn stat_lines_give_parent_ticks_and_a_name_with_spaces_and_parentheses() {
        let text = "4242 (my (odd) name) R 17 4242 17 0 -1 4194304 100 0 0 0 250 50 7 3 20 0 1 0 \
                    100 1000 200 18446744073709551615";
        let p = parse_stat(text).unwrap();
        assert_eq!((p.pid, p.ppid, p.ticks), (4242, 17, 250 + 50 + 7 + 3));
        assert_eq!(p.name, "my (odd) name");
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn below_walks_the_whole_tree_and_nothing_else() {
        let table = [
            stat(1, 0, 0),
            stat(10, 1, 5),
            stat(11, 10, 7),
            stat(12, 11, 1),
            stat(20, 1, 9),
        ];
        let mut got: Vec<u32> = below(10, &table).iter().map(|p| p.pid).collect();
        got.sort_unstable();
        assert_eq!(got, [11, 12]);
    }

    #[test]
    fn a_busy_child_is_charged_while_it_runs_and_after_it_is_reaped() {
        let before = descendants_cpu_seconds(100.0);
        let mut child = std::process::Command::new("sh")
            .args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done"])
            .spawn()
            .unwrap();
        child.wait().unwrap();
        let after = descendants_cpu_seconds(100.0);
        assert!(after - before > 0.05, "{before} → {after}");
    }
}
