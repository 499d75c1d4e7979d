//! Generated villages lie inside the real outline drawn for them (issue 17): the
//! finest held, their county's, and the same seed places them the same.

use domain::outlines::outlines;
use domain::RegionLevel;
use synth::{Collect, Config, Scale};

fn network(config: &Config) -> Collect {
    let mut c = Collect::default();
    synth::generate_network(config, &mut c).unwrap();
    c
}

#[test]
fn villages_fall_inside_their_countys_outline() {
    for config in [Config::default(), Config { scale: Scale::County, ..Config::default() }] {
        let c = network(&config);
        let villages: Vec<_> = c.regions.iter().filter(|r| r.level == RegionLevel::Village).collect();
        assert!(!villages.is_empty());
        for v in &villages {
            let o = outlines().finest(v.code).unwrap_or_else(|| panic!("an outline for {}", v.code));
            assert_eq!(o.level(), RegionLevel::County, "{}", v.code);
            let (lon, lat) = (v.lon.unwrap(), v.lat.unwrap());
            assert!(o.contains(lon, lat), "{} {} at {lon},{lat} outside {}", v.code, v.name, o.name);
        }
        // Townships and counties too (the county's point is its seat's).
        for r in c.regions.iter().filter(|r| matches!(r.level, RegionLevel::County | RegionLevel::Township)) {
            let o = outlines().finest(r.code).unwrap_or_else(|| panic!("an outline for {}", r.code));
            assert_eq!(o.level(), RegionLevel::County, "{}", r.code);
            if let (Some(lon), Some(lat)) = (r.lon, r.lat) {
                assert!(o.contains(lon, lat), "{} {} at {lon},{lat} outside {}", r.code, r.name, o.name);
            }
        }
        let again = network(&config);
        assert_eq!(c.regions, again.regions);
    }
}

#[test]
fn every_county_of_a_province_run_is_placed_inside_its_outline() {
    // Ningxia, the benchmark's province: 22 county-level units, each with an outline.
    let config = Config { scale: Scale::Province, province: Some("64".into()), ..Config::default() };
    let c = network(&config);
    let villages: Vec<_> = c.regions.iter().filter(|r| r.level == RegionLevel::Village).collect();
    assert!(villages.len() > 500, "{} villages", villages.len());
    for v in villages {
        let o = outlines().finest(v.code).unwrap();
        assert_eq!(o.level(), RegionLevel::County, "{}", v.code);
        assert!(o.contains(v.lon.unwrap(), v.lat.unwrap()), "{} outside {}", v.code, o.name);
    }
}
