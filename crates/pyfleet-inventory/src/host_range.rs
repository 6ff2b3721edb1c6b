//! Ansible's host ranges: `web[1:3]`, `web[01:10:2].example.com`, `db-[a:c]`.

/// More names than any inventory means: most likely a typo in a bound.
const MAX_HOSTS: usize = 100_000;

fn too_many(name: &str) -> String {
    format!("host {name:?}: the range names more than {MAX_HOSTS} hosts")
}

/// The names a host entry stands for: itself, or every name of its ranges
/// (several ranges multiply). Zero-padded numeric bounds keep their width.
pub fn expand_host_range(name: &str) -> Result<Vec<String>, String> {
    let Some(open) = name.find('[') else {
        return Ok(vec![name.to_string()]);
    };
    let close = name[open..]
        .find(']')
        .map(|i| open + i)
        .ok_or_else(|| format!("host {name:?}: '[' without ']'"))?;
    let (prefix, inner, suffix) = (&name[..open], &name[open + 1..close], &name[close + 1..]);
    let parts: Vec<&str> = inner.split(':').collect();
    let (start, end, step) = match parts.as_slice() {
        [start, end] => (*start, *end, 1usize),
        [start, end, step] => (
            *start,
            *end,
            step.parse().ok().filter(|s| *s > 0).ok_or_else(|| {
                format!("host {name:?}: the step {step:?} is not a positive number")
            })?,
        ),
        _ => {
            return Err(format!(
                "host {name:?}: a range is [START:END] or [START:END:STEP]"
            ));
        }
    };
    let items: Vec<String> = if let (Ok(a), Ok(b)) = (start.parse::<u64>(), end.parse::<u64>()) {
        if a > b {
            return Err(format!("host {name:?}: the range runs backwards"));
        }
        if (b - a) / step as u64 >= MAX_HOSTS as u64 {
            return Err(too_many(name));
        }
        let width = if start.len() > 1 && start.starts_with('0') {
            start.len()
        } else {
            0
        };
        (a..=b)
            .step_by(step)
            .map(|i| format!("{i:0width$}"))
            .collect()
    } else {
        let letter = |s: &str| {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_alphabetic() => Ok(c),
                _ => Err(format!(
                    "host {name:?}: range bounds are numbers or single letters, not {s:?}"
                )),
            }
        };
        let (a, b) = (letter(start)?, letter(end)?);
        if a > b {
            return Err(format!("host {name:?}: the range runs backwards"));
        }
        (a..=b).step_by(step).map(String::from).collect()
    };
    if items.len() > MAX_HOSTS {
        return Err(too_many(name));
    }
    let tails = expand_host_range(suffix)?;
    if tails.len().saturating_mul(items.len()) > MAX_HOSTS {
        return Err(too_many(name));
    }
    let mut names = Vec::new();
    for tail in tails {
        for item in &items {
            names.push(format!("{prefix}{item}{tail}"));
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_letters_padding_steps_and_products() {
        assert_eq!(expand_host_range("web1").unwrap(), ["web1"]);
        assert_eq!(
            expand_host_range("web[1:3]").unwrap(),
            ["web1", "web2", "web3"]
        );
        assert_eq!(
            expand_host_range("web[01:05:2].x").unwrap(),
            ["web01.x", "web03.x", "web05.x"]
        );
        assert_eq!(
            expand_host_range("db-[a:c]").unwrap(),
            ["db-a", "db-b", "db-c"]
        );
        assert_eq!(expand_host_range("r[1:2]n[1:2]").unwrap().len(), 4);
    }

    #[test]
    fn bad_ranges_say_why() {
        assert!(
            expand_host_range("web[1:")
                .unwrap_err()
                .contains("without ']'")
        );
        assert!(
            expand_host_range("web[3:1]")
                .unwrap_err()
                .contains("backwards")
        );
        assert!(
            expand_host_range("web[1:3:0]")
                .unwrap_err()
                .contains("step")
        );
        assert!(
            expand_host_range("web[aa:b]")
                .unwrap_err()
                .contains("single letters")
        );
        assert!(
            expand_host_range("web[0:999999]")
                .unwrap_err()
                .contains("more than")
        );
    }
}
