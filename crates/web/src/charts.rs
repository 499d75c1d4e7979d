//! The report page's small charts, one pair per indicator, drawn on the server
//! as inline SVG (no script, no library), in the style of the overview's maps
//! and trend (`html.rs`):
//!
//! - **the year by month**: the scope's region month by month, and, when the
//!   report is compared with the year before, that year's months dashed beside;
//! - **the region against its province and the nation**: a bar for the year's
//!   value of the scope's region and, when compared with the regions, bars of
//!   its province and of the nation; the target in force as a line across.
//!
//! Every mark carries its figure (`data-value`, `data-month`, `data-region`), so
//! that a test, or a reader with a screen reader, finds the values drawn; each
//! also has a `<title>` with the value as the table shows it.

use crate::html::esc;
use crate::i18n::Lang;
use crate::reports::shown;
use indicators::{Direction, IndicatorDef, Target, Unit};
use std::fmt::Write;

const W: f64 = 280.0;
const H: f64 = 130.0;
/// Left margin (the scale's labels), and the plot's top and bottom.
const LEFT: f64 = 34.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 22.0;

/// A figure as `data-value` carries it: at most four decimals, no trailing zeros.
pub fn data_value(v: f64) -> String {
    let s = format!("{:.4}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The top of the scale: the largest figure drawn (at least 1), a little above.
fn top_of(values: impl Iterator<Item = f64>, unit: Unit) -> f64 {
    let max = values.fold(0.0f64, f64::max);
    if unit == Unit::Percent && max <= 100.0 && max > 50.0 {
        return 100.0;
    }
    if max <= 0.0 {
        1.0
    } else {
        max * 1.1
    }
}

fn y_of(v: f64, top: f64) -> f64 {
    let plot = H - TOP - BOTTOM;
    H - BOTTOM - (v.max(0.0) / top).min(1.0) * plot
}

fn frame(s: &mut String, top: f64, unit: Unit) {
    let _ = write!(
        s,
        "<line x1=\"{LEFT}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#333\"/>\
         <text x=\"2\" y=\"{t}\" font-size=\"9\">{}</text><text x=\"2\" y=\"{b}\" font-size=\"9\">0</text>",
        esc(&scale_label(top, unit)),
        b = H - BOTTOM,
        r = W - 4.0,
        t = TOP + 6.0,
    );
}

fn scale_label(top: f64, unit: Unit) -> String {
    match unit {
        Unit::Percent => format!("{top:.0}%"),
        Unit::Share => format!("{top:.2}"),
        _ if top >= 10_000.0 => format!("{:.0}k", top / 1000.0),
        _ => format!("{top:.0}"),
    }
}

/// The target's line across the plot, with its figure.
fn target_line(s: &mut String, l: Lang, target: Option<&Target>, top: f64) {
    let Some(t) = target else { return };
    let y = y_of(t.value, top);
    let dash = match t.direction {
        Direction::About => " stroke-dasharray=\"2 2\"",
        _ => "",
    };
    let _ = write!(
        s,
        "<line class=\"target\" data-value=\"{v}\" data-direction=\"{d}\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{r}\" y2=\"{y:.1}\" stroke=\"#b91c1c\"{dash}><title>{lbl} {text}</title></line>",
        v = data_value(t.value),
        d = t.direction.as_str(),
        r = W - 4.0,
        lbl = if l == Lang::En { "target" } else { "目标" },
        text = esc(&t.describe()),
    );
}

/// The year by month: `months` (12 values) and, when compared, `before` (the
/// year before's 12), with the target's line.
pub fn months_svg(
    l: Lang,
    def: &IndicatorDef,
    year: i32,
    months: &[Option<f64>],
    before: Option<&[Option<f64>]>,
    target: Option<&Target>,
) -> String {
    let all = months.iter().chain(before.into_iter().flatten()).flatten().copied();
    let top = top_of(all.chain(target.map(|t| t.value)), def.unit);
    let step = (W - LEFT - 10.0) / 11.0;
    let x_of = |m: usize| LEFT + 4.0 + m as f64 * step;
    let label = if l == Lang::En {
        format!("{} by month, {year}", def.name_en)
    } else {
        format!("{}（{year}年逐月）", def.name_zh)
    };
    let mut s = format!(
        "<svg class=\"chart months\" data-indicator=\"{}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">",
        esc(&def.id),
        esc(&label)
    );
    frame(&mut s, top, def.unit);
    for m in [0usize, 3, 6, 9] {
        let _ = write!(s, "<text x=\"{:.1}\" y=\"{}\" font-size=\"9\">{:02}</text>", x_of(m) - 5.0, H - 8.0, m + 1);
    }
    target_line(&mut s, l, target, top);
    let mut line = |values: &[Option<f64>], y: i32, class: &str, colour: &str, dash: &str| {
        // A path broken where a month has no figure.
        let mut d = String::new();
        let mut pen = false;
        for (m, v) in values.iter().enumerate() {
            match v {
                Some(v) => {
                    let _ = write!(d, "{}{:.1},{:.1} ", if pen { 'L' } else { 'M' }, x_of(m), y_of(*v, top));
                    pen = true;
                }
                None => pen = false,
            }
        }
        if !d.is_empty() {
            let _ = write!(
                s,
                "<path class=\"{class}\" d=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\"{dash}/>",
                d.trim_end()
            );
        }
        for (m, v) in values.iter().enumerate() {
            if let Some(v) = v {
                let _ = write!(
                    s,
                    "<circle class=\"{class}\" data-month=\"{y}-{:02}\" data-value=\"{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.2\" fill=\"{colour}\"><title>{y}-{:02}: {}</title></circle>",
                    m + 1,
                    data_value(*v),
                    x_of(m),
                    y_of(*v, top),
                    m + 1,
                    esc(&shown(def.unit, Some(*v)))
                );
            }
        }
    };
    if let Some(b) = before {
        line(b, year - 1, "before", "#9ca3af", " stroke-dasharray=\"3 2\"");
    }
    line(months, year, "year", "#2563eb", "");
    if months.iter().all(Option::is_none) {
        let _ = write!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#888\">{}</text>",
            LEFT + 10.0,
            H / 2.0,
            if l == Lang::En { "no figure" } else { "无数据" }
        );
    }
    s.push_str("</svg>");
    s
}

/// One bar of [`bars_svg`]: which (`region`, `province`, `nation`), its label and value.
pub struct Bar<'a> {
    pub key: &'static str,
    pub label: &'a str,
    pub value: Option<f64>,
}

/// The year's value of the scope's region beside its province's and the
/// nation's (those given), with the target's line.
pub fn bars_svg(l: Lang, def: &IndicatorDef, bars: &[Bar], target: Option<&Target>) -> String {
    let top = top_of(bars.iter().filter_map(|b| b.value).chain(target.map(|t| t.value)), def.unit);
    let label = if l == Lang::En {
        format!("{}: the region, its province, the nation", def.name_en)
    } else {
        format!("{}：本地区、所在省、全国", def.name_zh)
    };
    let mut s = format!(
        "<svg class=\"chart bars\" data-indicator=\"{}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">",
        esc(&def.id),
        esc(&label)
    );
    frame(&mut s, top, def.unit);
    let slot = (W - LEFT - 10.0) / 3.0;
    for (i, b) in bars.iter().enumerate() {
        let x = LEFT + 6.0 + i as f64 * slot;
        let colour = ["#2563eb", "#60a5fa", "#9ca3af"][i.min(2)];
        if let Some(v) = b.value {
            let y = y_of(v, top);
            let _ = write!(
                s,
                "<rect class=\"bar\" data-region=\"{k}\" data-value=\"{dv}\" x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{colour}\"><title>{lbl}: {shown}</title></rect>\
                 <text x=\"{x:.1}\" y=\"{ty:.1}\" font-size=\"9\">{shown}</text>",
                k = b.key,
                dv = data_value(v),
                w = slot - 14.0,
                h = (H - BOTTOM - y).max(0.0),
                lbl = esc(b.label),
                shown = esc(&shown(def.unit, Some(v))),
                ty = (y - 2.0).max(TOP),
            );
        } else {
            let _ = write!(
                s,
                "<text class=\"bar-none\" data-region=\"{}\" x=\"{x:.1}\" y=\"{:.1}\" font-size=\"9\">—</text>",
                b.key,
                H - BOTTOM - 3.0
            );
        }
        let _ = write!(s, "<text x=\"{x:.1}\" y=\"{}\" font-size=\"9\">{}</text>", H - 8.0, esc(b.label));
    }
    target_line(&mut s, l, target, top);
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicators::Definitions;

    #[test]
    fn figures_are_carried_with_four_decimals_at_most() {
        assert_eq!(data_value(38.333333), "38.3333");
        assert_eq!(data_value(40.0), "40");
        assert_eq!(data_value(0.5), "0.5");
        assert_eq!(data_value(-0.00001), "0");
    }

    #[test]
    fn the_charts_carry_their_values_and_the_target() {
        let defs = Definitions::shipped();
        let d = defs.get("poor_treated_in_county_share").unwrap();
        let target = indicators::Targets::shipped().find(&d.id, "34", 2024).cloned();
        let mut months = vec![None; 12];
        months[2] = Some(50.0);
        months[4] = Some(100.0);
        let before = vec![Some(80.0); 12];
        let svg = months_svg(Lang::En, d, 2024, &months, Some(&before), target.as_ref());
        assert!(svg.contains("data-month=\"2024-03\" data-value=\"50\""), "{svg}");
        assert!(svg.contains("data-month=\"2024-05\" data-value=\"100\""), "{svg}");
        assert!(!svg.contains("data-month=\"2024-04\""), "no mark without a figure");
        assert_eq!(svg.matches("class=\"before\" data-month=\"2023-").count(), 12);
        assert!(svg.contains("class=\"target\" data-value=\"90\" data-direction=\"at_least\""), "{svg}");
        let bars = [
            Bar { key: "region", label: "341122", value: Some(50.0) },
            Bar { key: "province", label: "34", value: Some(75.0) },
            Bar { key: "nation", label: "nation", value: None },
        ];
        let svg = bars_svg(Lang::Zh, d, &bars, target.as_ref());
        assert!(svg.contains("data-region=\"region\" data-value=\"50\""), "{svg}");
        assert!(svg.contains("data-region=\"province\" data-value=\"75\""), "{svg}");
        assert!(svg.contains("class=\"bar-none\" data-region=\"nation\""), "{svg}");
        assert!(svg.contains("class=\"target\" data-value=\"90\""), "{svg}");
        assert!(!svg.contains("<script"), "no script");
    }
}
