//! Rendering of a [`Report`] as Markdown and as one self-contained HTML
//! page (inline CSS, inline SVG, a few lines of inline JS, no URL fetched).
//! Templates are minijinja; the `.html` template auto-escapes all text.

use super::{Evidence, Report, ReportError};
use crate::aggregate::corpus::{Cell, TargetSummary};
use minijinja::{context, Environment};
use serde::Serialize;

const HTML: &str = include_str!("templates/report.html");
const MD: &str = include_str!("templates/report.md");

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    env.add_template("report.html", HTML)
        .expect("the HTML template parses");
    env.add_template("report.md", MD)
        .expect("the Markdown template parses");
    // Table cells must not break the Markdown table.
    env.add_filter("cell", |s: String| s.replace('|', "\\|").replace('\n', " "));
    env.add_filter("signed", |x: f64| format!("{x:+.2}"));
    env.add_filter("pct", |x: f64| format!("{:.0}%", x * 100.0));
    env
}

fn render(name: &'static str, ctx: minijinja::Value) -> Result<String, ReportError> {
    let env = env();
    env.get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|source| ReportError::Template { name, source })
}

pub fn markdown(report: &Report) -> Result<String, ReportError> {
    let mut s = render("report.md", context! { r => report })?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

pub fn html(report: &Report) -> Result<String, ReportError> {
    let charts: Vec<Chart> = report.targets.iter().map(chart).collect();
    let articles: Vec<ArticleView> = report
        .articles
        .iter()
        .map(|a| {
            let mut search = vec![
                a.title.clone().unwrap_or_default(),
                a.author.clone().unwrap_or_default(),
                a.date.clone().unwrap_or_default(),
            ];
            search.extend(a.actors.iter().map(|x| x.name.clone()));
            search.extend(a.stance.iter().map(|(t, s)| format!("{t}:{}", s.label)));
            ArticleView {
                stance: a
                    .stance
                    .iter()
                    .map(|(t, s)| StanceView {
                        target: t.clone(),
                        label: s.label.clone(),
                        score: s.score,
                        confidence: s.confidence.unwrap_or(0.0),
                        evidence: s.evidence.iter().map(segments).collect(),
                    })
                    .collect(),
                actors: a
                    .actors
                    .iter()
                    .flat_map(|x| {
                        x.stance.iter().map(|(t, s)| ActorView {
                            name: x.name.clone(),
                            target: t.clone(),
                            label: s.label.clone(),
                            evidence: s.evidence.iter().map(segments).collect(),
                        })
                    })
                    .collect(),
                search: search.join(" ").to_lowercase(),
                entry: a,
            }
        })
        .collect();
    let mut s = render(
        "report.html",
        context! { r => report, charts => charts, articles => articles },
    )?;
    if !s.ends_with('\n') {
        s.push('\n');
    }
    Ok(s)
}

#[derive(Serialize)]
struct ArticleView<'a> {
    entry: &'a super::ArticleEntry,
    stance: Vec<StanceView>,
    actors: Vec<ActorView>,
    /// Lower-cased text the search box filters on.
    search: String,
}

#[derive(Serialize)]
struct StanceView {
    target: String,
    label: String,
    score: f32,
    confidence: f32,
    evidence: Vec<Vec<Segment>>,
}

#[derive(Serialize)]
struct ActorView {
    name: String,
    target: String,
    label: String,
    evidence: Vec<Vec<Segment>>,
}

/// A run of evidence text, highlighted when it mentions an actor.
#[derive(Serialize)]
struct Segment {
    text: String,
    actor: Option<String>,
}

fn segments(e: &Evidence) -> Vec<Segment> {
    let chars: Vec<char> = e.text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    for m in &e.mentions {
        let (start, end) = (m.start.min(chars.len()), m.end.min(chars.len()));
        if start < at || start >= end {
            continue;
        }
        if start > at {
            out.push(Segment {
                text: chars[at..start].iter().collect(),
                actor: None,
            });
        }
        out.push(Segment {
            text: chars[start..end].iter().collect(),
            actor: Some(m.actor.clone()),
        });
        at = end;
    }
    if at < chars.len() {
        out.push(Segment {
            text: chars[at..].iter().collect(),
            actor: None,
        });
    }
    out
}

/// Geometry of one target's stance-over-time chart.
#[derive(Serialize)]
struct Chart {
    target: String,
    /// `month`, `quarter` or `year`: the finest with 2 to 16 periods.
    by: &'static str,
    width: u32,
    height: u32,
    left: u32,
    top: u32,
    plot_w: u32,
    plot_h: u32,
    /// y of net = +1, 0, −1.
    y_top: f64,
    y_zero: f64,
    y_bottom: f64,
    /// Points of the band polygon and of the net line (`x,y x,y …`).
    band: String,
    line: String,
    points: Vec<Point>,
    /// Every k-th period is labelled so labels do not collide.
    label_every: usize,
}

#[derive(Serialize)]
struct Point {
    x: f64,
    y: f64,
    key: String,
    n: usize,
    net: f64,
    low: f64,
    high: f64,
}

/// Most periods drawn before a coarser series is used.
const MAX_POINTS: usize = 16;

fn chart(t: &TargetSummary) -> Chart {
    // The finest series that stays readable.
    let (by, cells): (&str, &[Cell]) = if (2..=MAX_POINTS).contains(&t.by_month.len()) {
        ("month", &t.by_month)
    } else if (2..=MAX_POINTS).contains(&t.by_quarter.len()) {
        ("quarter", &t.by_quarter)
    } else {
        ("year", &t.by_year)
    };
    let (width, height, left, top) = (900u32, 260u32, 64u32, 16u32);
    let (plot_w, plot_h) = (width - left - 16, height - top - 56);
    let y = |v: f64| top as f64 + (1.0 - v) / 2.0 * plot_h as f64;
    let n = cells.len();
    let x = |i: usize| {
        if n <= 1 {
            left as f64 + plot_w as f64 / 2.0
        } else {
            left as f64 + i as f64 * plot_w as f64 / (n - 1) as f64
        }
    };
    let r1 = |v: f64| (v * 10.0).round() / 10.0;
    let points: Vec<Point> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| Point {
            x: r1(x(i)),
            y: r1(y(c.net)),
            key: c.key.clone(),
            n: c.n,
            net: c.net,
            low: c.net_low,
            high: c.net_high,
        })
        .collect();
    let upper = cells
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{},{}", r1(x(i)), r1(y(c.net_high))));
    let lower = cells
        .iter()
        .enumerate()
        .rev()
        .map(|(i, c)| format!("{},{}", r1(x(i)), r1(y(c.net_low))));
    let mut band: Vec<String> = upper.chain(lower).collect();
    if n == 1 {
        // A single period: a short vertical bar instead of a polygon.
        let (c, xm) = (&cells[0], x(0));
        band = vec![
            format!("{},{}", r1(xm - 6.0), r1(y(c.net_high))),
            format!("{},{}", r1(xm + 6.0), r1(y(c.net_high))),
            format!("{},{}", r1(xm + 6.0), r1(y(c.net_low))),
            format!("{},{}", r1(xm - 6.0), r1(y(c.net_low))),
        ];
    }
    Chart {
        target: t.target.clone(),
        by,
        width,
        height,
        left,
        top,
        plot_w,
        plot_h,
        y_top: y(1.0),
        y_zero: y(0.0),
        y_bottom: y(-1.0),
        band: band.join(" "),
        line: points
            .iter()
            .map(|p| format!("{},{}", p.x, p.y))
            .collect::<Vec<_>>()
            .join(" "),
        label_every: n.div_ceil(12).max(1),
        points,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Mention;

    #[test]
    fn segments_split_on_mentions_by_code_point() {
        let e = Evidence {
            sentence: 0,
            text: "Ré Kim met Moon.".into(),
            mentions: vec![
                Mention {
                    start: 3,
                    end: 6,
                    actor: "kim".into(),
                },
                Mention {
                    start: 11,
                    end: 15,
                    actor: "moon".into(),
                },
            ],
        };
        let s = segments(&e);
        let texts: Vec<&str> = s.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["Ré ", "Kim", " met ", "Moon", "."]);
        assert_eq!(s[1].actor.as_deref(), Some("kim"));
    }
}
