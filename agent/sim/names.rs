//! Realistic, distinct MSP customer names for seeded simulators.
//!
//! Every simulator draws its clients from here so that the same seed gives the same customers in
//! Auvik, Syncro and Passportal, which is what lets `assetd demo` show clients grouping across
//! tools. Some names carry `&`, `,` and `.` on purpose: they are what breaks naive matching.

/// Company stems. Each is used once before any is used twice.
const STEMS: &[&str] = &[
    "Contoso",
    "Northwind Traders",
    "Fabrikam",
    "Smith & Sons",
    "Adventure Works",
    "Tailspin Toys",
    "Wide World Importers",
    "Litware",
    "Proseware",
    "Woodgrove Bank",
    "Blue Yonder Airlines",
    "Coho Winery",
    "Alpine Ski House",
    "Margie's Travel",
    "Lamna Healthcare",
    "Baker & Lowe",
    "Harbor View Dental",
    "Riverside Family Clinic",
    "Greenfield Accounting",
    "Pinecrest Law Group",
    "Summit Ridge Construction",
    "Oakmont Veterinary",
    "Bluewater Logistics",
    "Cedar Creek Insurance",
    "Maple Leaf Realty",
    "Ironbridge Manufacturing",
    "Silver Lake Schools",
    "Redwood Physiotherapy",
    "Hartley, Moss & Kline",
    "St. Anne's Parish",
    "Dr. Patel Orthodontics",
    "Beacon Hill Architects",
    "Copperleaf Bakery",
    "Evergreen Landscaping",
    "Foxglove Florists",
    "Granite State Plumbing",
    "Highland Dairy",
    "Juniper Hotels",
    "Keystone Title",
    "Lakeshore Marina",
    "Meridian Engineering",
    "Nash & Cole Attorneys",
    "Orchard Street Pharmacy",
    "Parkside Pediatrics",
    "Quarry Hill Golf Club",
    "Rosewood Senior Living",
    "Sterling Freight",
    "Thornbury Auto Group",
    "Union Square Dental",
    "Valley Credit Union",
    "Westbrook Chiropractic",
    "Yellowstone Outfitters",
    "Zenith Printing",
    "Anchor Point Brewing",
    "Brightwater Capital",
    "Crescent Moon Yoga",
    "Delta Tool & Die",
    "Eastgate Church",
    "Falcon Ridge Vineyards",
    "Goldcrest Jewelers",
    "Hudson & Reyes CPA",
    "Ivy League Tutoring",
    "Jade Garden Restaurants",
    "Kingfisher Pools",
    "Lighthouse Counseling",
    "Mariner Seafood Co.",
    "Northstar Roofing",
    "O'Brien Funeral Home",
    "Pioneer Ag Supply",
    "Quinn & Associates",
];

/// Legal-form suffixes, appended to a stem.
const SUFFIXES: &[&str] = &[
    "", ", Ltd.", " Inc.", " LLC", ", Inc.", " Ltd", " Group", " Co.", " & Co.", " Pty Ltd",
    " PLLC", " GmbH", " S.A.", " LLP",
];

/// `n` distinct customer names, deterministic for `seed`.
pub fn client_names(seed: u64, n: usize) -> Vec<String> {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x6e61_6d65_7300_0001);
    let mut stems: Vec<usize> = (0..STEMS.len()).collect();
    rng.shuffle(&mut stems);
    let mut names = Vec::with_capacity(n);
    let mut seen = std::collections::HashSet::with_capacity(n);
    // First round: every stem once, mostly without a suffix (how people name their customers).
    for &s in &stems {
        let suffix = if rng.u8(..100) < 55 {
            ""
        } else {
            SUFFIXES[rng.usize(1..SUFFIXES.len())]
        };
        push_unique(&mut names, &mut seen, format!("{}{}", STEMS[s], suffix));
    }
    // Then the remaining stem/suffix pairs in a seeded order.
    let mut pairs: Vec<(usize, usize)> = (0..STEMS.len())
        .flat_map(|s| (0..SUFFIXES.len()).map(move |x| (s, x)))
        .collect();
    rng.shuffle(&mut pairs);
    for (s, x) in pairs {
        if names.len() >= n {
            break;
        }
        push_unique(
            &mut names,
            &mut seen,
            format!("{}{}", STEMS[s], SUFFIXES[x]),
        );
    }
    // Past every pair, number the sites of the same customers.
    let mut site = 2;
    while names.len() < n {
        for &s in &stems {
            push_unique(&mut names, &mut seen, format!("{} - Site {site}", STEMS[s]));
        }
        site += 1;
    }
    names.truncate(n);
    names
}

fn push_unique(
    names: &mut Vec<String>,
    seen: &mut std::collections::HashSet<String>,
    name: String,
) {
    if seen.insert(name.clone()) {
        names.push(name);
    }
}

/// A short lowercase handle for a name (`"Smith & Sons, Ltd."` → `"smithsons"`), the way MSPs
/// pick subdomain-like prefixes. Only the stem counts, so it stays short.
pub fn slug(name: &str) -> String {
    let stem = STEMS
        .iter()
        .find(|s| name.starts_with(**s))
        .copied()
        .unwrap_or(name);
    let s: String = stem
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(20)
        .collect();
    if s.is_empty() { "client".to_owned() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_distinct_deterministic_and_awkward() {
        for n in [0, 1, 5, 70, 500, 1200] {
            let a = client_names(7, n);
            assert_eq!(a.len(), n);
            let set: std::collections::HashSet<_> = a.iter().collect();
            assert_eq!(set.len(), n, "duplicates for n={n}");
            assert_eq!(a, client_names(7, n));
        }
        let many = client_names(1, 200);
        assert!(many.iter().any(|n| n.contains('&')));
        assert!(many.iter().any(|n| n.contains(',')));
        assert!(many.iter().any(|n| n.contains('.')));
        assert_ne!(client_names(1, 20), client_names(2, 20));
    }

    #[test]
    fn slugs() {
        assert_eq!(slug("Smith & Sons, Ltd."), "smithsons");
        assert_eq!(slug("St. Anne's Parish - Site 3"), "stannesparish");
        assert_eq!(slug("&&&"), "client");
    }
}
