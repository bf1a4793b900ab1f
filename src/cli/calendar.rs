//! The calendar as iCalendar and as an HTML page (`changegate windows --format`);
//! the library works out the data ([`changegate::calendar`]).

pub(crate) mod html;
pub(crate) mod ics;
