//! The transport scenarios on `rabbit://` against the machine's broker (`RABBIT_URL`, else
//! `rabbit://guest:guest@127.0.0.1:5672/`): every behaviour the memory transport shows,
//! RabbitMQ must show too. Names are unique per test and everything declared is deleted.

mod scenarios;
mod support;

use support::rabbit::rabbit_url;

all_transport_scenarios!(rabbit_url);
