//! HTML by hand: escaping, the page frame, and the two charts drawn by the server as
//! SVG (the region map with real outlines and the monthly trend). Plain `format!` keeps the build
//! light; every value that comes from data goes through [`esc`].

use crate::access::Permission;
use crate::auth::Ctx;
use crate::i18n::{t, Lang};
use app::{MonthStat, RegionStat};
use std::fmt::Write;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

/// Percent-encodes a value for a URL query or path segment.
pub fn url(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            o.push(b as char);
        } else {
            let _ = write!(o, "%{b:02X}");
        }
    }
    o
}

/// The hidden CSRF field every form carries.
pub fn csrf_field(ctx: &Ctx) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", esc(ctx.csrf()))
}

/// The page frame: header with navigation (only what the role may open), language
/// switch and logout; `body` is already HTML.
pub fn page(ctx: &Ctx, title: &str, body: &str) -> String {
    let l = ctx.lang;
    let mut nav = String::new();
    let mut link = |href: &str, key: &'static str| {
        let _ = write!(nav, "<a href=\"{href}\">{}</a>", t(l, key));
    };
    link("/", "overview");
    link("/persons", "persons");
    link("/households", "households");
    link("/alerts", "alerts");
    link("/cases", "cases");
    link("/ledger", "ledger");
    link("/settle", "settle");
    if ctx.may(Permission::Settle) {
        link("/desk", "desk");
    }
    link("/coverage", "coverage");
    link("/practitioners", "practitioners");
    link("/plans", "plans");
    link("/pairing", "pairing");
    link("/reports", "reports");
    link("/targets", "targets");
    if ctx.may(Permission::Analyse) {
        link("/whatif", "whatif");
    }
    link("/policies", "policies");
    link("/limits", "limits");
    if ctx.may(Permission::Import) {
        link("/imports", "imports");
    }
    if ctx.may(Permission::ManageUsers) {
        link("/users", "users");
    }
    if ctx.may(Permission::ViewAudit) {
        link("/audit", "audit");
    }
    let other = match l {
        Lang::Zh => "<a href=\"/lang/en\" class=\"lang\">English</a>",
        Lang::En => "<a href=\"/lang/zh\" class=\"lang\">中文</a>",
    };
    format!(
        "<!doctype html><html lang=\"{lc}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
<title>{title} · {app}</title><link rel=\"stylesheet\" href=\"/static/app.css\"><script src=\"/static/app.js\" defer></script></head>\
<body><header><strong class=\"brand\">{app}</strong><nav>{nav}</nav><span class=\"who\"><a href=\"/account\" id=\"account-link\">{user}</a> · {role} · {scope}</span>{other}\
<form method=\"post\" action=\"/logout\" class=\"inline\">{csrf}<button type=\"submit\">{logout}</button></form></header>\
<main><h1>{title}</h1>{body}</main></body></html>",
        lc = l.code(),
        title = esc(title),
        app = t(l, "app"),
        user = esc(&ctx.user.username),
        role = ctx.user.role,
        scope = esc(&ctx.user.scope.to_string()),
        csrf = csrf_field(ctx),
        logout = t(l, "logout"),
    )
}

/// A simple table: header keys translated, rows already HTML.
pub fn table(l: Lang, heads: &[&'static str], rows: &[Vec<String>]) -> String {
    if rows.is_empty() {
        return format!("<p class=\"empty\">{}</p>", t(l, "none"));
    }
    let mut s = String::from("<table><thead><tr>");
    for h in heads {
        let _ = write!(s, "<th>{}</th>", t(l, h));
    }
    s.push_str("</tr></thead><tbody>");
    for r in rows {
        s.push_str("<tr>");
        for c in r {
            let _ = write!(s, "<td>{c}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table>");
    s
}

/// Five classes of a sequential palette, light to dark.
const PALETTE: [&str; 5] = ["#fee8c8", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"];

/// How a map shades the regions of the level below its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shade {
    /// By the indicator of the regions' points added up within each (a choropleth).
    Sum,
    /// Not at all: the points alone carry the values.
    None,
}

/// The region map of a scope (a prefix of 0, 2, 4 or 6 digits): the scope's real
/// outline and the outlines of the level below it (provinces for the whole
/// country, a province's cities, a city's counties; a county has no outlined level
/// below, its villages are the dots; `domain::outlines`), and each region of
/// `regions` with a recorded point as a dot on top. With [`Shade::Sum`] the level
/// below is coloured by `value` of its regions added up (their figures summed
/// first, so a share stays a share) in five equal-interval classes, and the dots
/// are small and neutral; otherwise (and for a county, which has no level below
/// to shade) the dots carry the five classes. Where no outline of the scope is held
/// (a county missing from the shipped file, a pseudo-city such as 4290) the map
/// frames the level below and the dots, with the finest enclosing outline held
/// drawn as context. Regions without a point are listed below as a tile grid in
/// code order, so nothing is hidden.
pub fn region_map(
    scope: &str,
    regions: &[RegionStat],
    value: impl Fn(&RegionStat) -> f64,
    shade: Shade,
    label: &str,
) -> String {
    let w = 640.0;
    let h = 420.0;
    let all = domain::outlines::outlines();
    let own = all.of_prefix(scope);
    let below = all.children(scope);
    // Without an outline of its own, the finest enclosing one held, for context.
    let context = if own.is_none() && scope.len() > 2 {
        [4usize, 2].into_iter().filter(|n| *n < scope.len()).find_map(|n| all.of_prefix(&scope[..n]))
    } else {
        None
    };
    let pts: Vec<(&RegionStat, f64, f64)> = regions.iter().filter_map(|r| Some((r, r.lon?, r.lat?))).collect();
    let mut bbox = domain::outlines::BBox::EMPTY;
    for (_, x, y) in &pts {
        bbox.add(*x, *y);
    }
    if let Some(o) = own {
        bbox.union(&o.bbox);
    }
    // The whole country, or a scope held only through its parts (a county-level
    // city filed under a province's pseudo-city such as 4290): framed by the level
    // below.
    if own.is_none() {
        for o in &below {
            bbox.union(&o.bbox);
        }
    }
    // The level below, shaded by the sum of its regions' figures.
    let digits = [0usize, 2, 4, 6].into_iter().find(|d| *d > scope.len()).unwrap_or(6);
    let shaded = shade == Shade::Sum && !below.is_empty();
    let group_vals: Vec<Option<f64>> = below
        .iter()
        .map(|o| {
            let key = o.code.to_string();
            let inside: Vec<&RegionStat> =
                regions.iter().filter(|r| r.code.short().get(..digits) == key.get(..digits)).collect();
            (!inside.is_empty()).then(|| value(&merged(o, &inside)))
        })
        .collect();
    let dot_vals: Vec<f64> = regions.iter().map(&value).collect();
    let vmax = if shaded {
        group_vals.iter().flatten().cloned().fold(0.0, f64::max)
    } else {
        dot_vals.iter().cloned().fold(0.0, f64::max)
    };
    let class = |v: f64| -> usize {
        if vmax <= 0.0 {
            0
        } else {
            (((v / vmax) * 5.0).floor() as usize).min(4)
        }
    };
    let mut s = format!("<svg class=\"map\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">", esc(label));
    let _ = write!(s, "<rect width=\"{w}\" height=\"{h}\" fill=\"#f7f7f7\"/>");
    if !bbox.is_empty() {
        let k = ((bbox.min_lat + bbox.max_lat) / 2.0).to_radians().cos().max(0.1);
        let dx = ((bbox.max_lon - bbox.min_lon) * k).max(1e-6);
        let dy = (bbox.max_lat - bbox.min_lat).max(1e-6);
        let scale = ((w - 40.0) / dx).min((h - 60.0) / dy);
        let proj = |x: f64, y: f64| (20.0 + (x - bbox.min_lon) * k * scale, h - 40.0 - (y - bbox.min_lat) * scale);
        if let Some(o) = context {
            let _ = write!(
                s,
                "<path class=\"context\" data-code=\"{}\" d=\"{}\" fill=\"#fff\" stroke=\"#bbb\" stroke-width=\"0.8\"><title>{}</title></path>",
                o.code,
                svg_path(o, &proj),
                esc(&o.name)
            );
        }
        for (o, v) in below.iter().zip(&group_vals) {
            let fill = match (shaded, v) {
                (true, Some(v)) => PALETTE[class(*v)],
                _ => "#fff",
            };
            let shown = v.map_or("—".to_string(), fmt_num);
            let _ = write!(
                s,
                "<path class=\"sub\" data-code=\"{}\" d=\"{}\" fill=\"{fill}\" stroke=\"#999\" stroke-width=\"0.5\"><title>{} {} — {}: {}</title></path>",
                o.code,
                svg_path(o, &proj),
                esc(&o.name),
                o.code,
                esc(label),
                shown
            );
        }
        if let Some(o) = own {
            let fill = if below.is_empty() { "#fff" } else { "none" };
            let _ = write!(
                s,
                "<path class=\"scope\" data-code=\"{}\" d=\"{}\" fill=\"{fill}\" stroke=\"#333\" stroke-width=\"1.2\"><title>{}</title></path>",
                o.code,
                svg_path(o, &proj),
                esc(&o.name)
            );
        }
        for (r, x, y) in &pts {
            let (px, py) = proj(*x, *y);
            let v = value(r);
            let (radius, fill) = if shaded { ("2.5", "#333") } else { ("5", PALETTE[class(v)]) };
            let _ = write!(
                s,
                "<circle cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"{radius}\" fill=\"{fill}\" stroke=\"#555\" stroke-width=\"0.5\"><title>{} {} — {}: {}</title></circle>",
                esc(&r.name),
                r.code.short(),
                esc(label),
                fmt_num(v)
            );
        }
    }
    // legend
    for (i, c) in PALETTE.iter().enumerate() {
        let lo = vmax * i as f64 / 5.0;
        let _ = write!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"14\" height=\"10\" fill=\"{c}\" stroke=\"#555\" stroke-width=\"0.5\"/><text x=\"{}\" y=\"{}\" font-size=\"10\">≥{}</text>",
            20 + i * 80,
            h - 18.0,
            36 + i * 80,
            h - 9.0,
            fmt_num(lo)
        );
    }
    s.push_str("</svg>");
    let unplaced: Vec<&RegionStat> = regions.iter().filter(|r| r.lon.is_none() || r.lat.is_none()).collect();
    if !unplaced.is_empty() {
        s.push_str("<div class=\"tiles\">");
        for r in unplaced {
            let _ = write!(
                s,
                "<span class=\"tile\" style=\"background:{}\" title=\"{} {}: {}\">{}</span>",
                PALETTE[if shaded { 0 } else { class(value(r)) }],
                esc(&r.name),
                r.code.short(),
                fmt_num(value(r)),
                esc(&r.name)
            );
        }
        s.push_str("</div>");
    }
    s
}

/// The figures of regions added up, as one region of the outline's code and name.
fn merged(o: &domain::outlines::Outline, inside: &[&RegionStat]) -> RegionStat {
    let mut m = RegionStat {
        code: o.region_code(),
        name: o.name.clone(),
        lon: None,
        lat: None,
        households: 0,
        persons: 0,
        poor_persons: 0,
        open_alerts: 0,
        out_of_pocket: domain::Fen::ZERO,
        settled_total: domain::Fen::ZERO,
    };
    for r in inside {
        m.households += r.households;
        m.persons += r.persons;
        m.poor_persons += r.poor_persons;
        m.open_alerts += r.open_alerts;
        m.out_of_pocket += r.out_of_pocket;
        m.settled_total += r.settled_total;
    }
    m
}

/// An outline as SVG path data: `M` and the points of each ring, closed by `Z`,
/// projected and rounded to 0.1 px, repeated points left out.
fn svg_path(o: &domain::outlines::Outline, proj: &impl Fn(f64, f64) -> (f64, f64)) -> String {
    let mut d = String::new();
    for ring in o.polygons.iter().flat_map(|p| &p.rings) {
        let mut last = None;
        let mut n = 0;
        for &(x, y) in ring {
            let (px, py) = proj(x, y);
            let p = ((px * 10.0).round() as i64, (py * 10.0).round() as i64);
            if last == Some(p) {
                continue;
            }
            d.push(if n == 0 { 'M' } else { ' ' });
            let _ = write!(d, "{},{}", p.0 as f64 / 10.0, p.1 as f64 / 10.0);
            last = Some(p);
            n += 1;
        }
        if n > 0 {
            d.push('Z');
        }
    }
    d
}

fn fmt_num(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Monthly bars of the settled total with the out-of-pocket part drawn over them.
pub fn trend_chart(months: &[MonthStat], l: Lang) -> String {
    if months.is_empty() {
        return format!("<p class=\"empty\">{}</p>", t(l, "none"));
    }
    let w = 640.0;
    let h = 220.0;
    let max = months.iter().map(|m| m.total.as_yuan_f64()).fold(1.0, f64::max);
    let bw = (w - 60.0) / months.len() as f64;
    let mut s = format!("<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">", t(l, "trend"));
    let _ = write!(s, "<line x1=\"50\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#333\"/>", h - 30.0, w - 10.0, h - 30.0);
    let _ = write!(s, "<text x=\"4\" y=\"14\" font-size=\"10\">{:.0}</text>", max);
    for (i, m) in months.iter().enumerate() {
        let x = 50.0 + i as f64 * bw;
        let th = (m.total.as_yuan_f64() / max) * (h - 50.0);
        let oh = (m.out_of_pocket.as_yuan_f64() / max) * (h - 50.0);
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{th:.1}\" fill=\"#6baed6\"><title>{} {}: {}</title></rect>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{oh:.1}\" fill=\"#e34a33\"><title>{} {}: {}</title></rect>",
            x + 1.0,
            h - 30.0 - th,
            (bw - 2.0).max(1.0),
            m.month,
            t(l, "settled_total"),
            m.total,
            x + 1.0,
            h - 30.0 - oh,
            (bw - 2.0).max(1.0),
            m.month,
            t(l, "oop"),
            m.out_of_pocket
        );
        if months.len() <= 24 || i % (months.len() / 12).max(1) == 0 {
            let _ = write!(s, "<text x=\"{:.1}\" y=\"{}\" font-size=\"9\">{}</text>", x + 1.0, h - 16.0, &m.month[2..]);
        }
    }
    let _ = write!(
        s,
        "<rect x=\"50\" y=\"{y}\" width=\"10\" height=\"8\" fill=\"#6baed6\"/><text x=\"64\" y=\"{ty}\" font-size=\"10\">{a}</text>\
         <rect x=\"180\" y=\"{y}\" width=\"10\" height=\"8\" fill=\"#e34a33\"/><text x=\"194\" y=\"{ty}\" font-size=\"10\">{b}</text>",
        y = h - 10.0,
        ty = h - 2.0,
        a = t(l, "settled_total"),
        b = t(l, "oop")
    );
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(esc("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(url("a b/中"), "a%20b%2F%E4%B8%AD");
    }
}
