// Pass the parcel on duplex: one Channel per pair with a read callback, one EventLoop.
// See parcel.h.
#include <memory>
#include <vector>

#include "duplex/reactor/channel.h"
#include "duplex/reactor/event_loop.h"
#include "parcel.h"

int main(int argc, char** argv) {
  parcel p;
  parcel_init(&p, "duplex", argc, argv);
  {
    const double t0 = parcel_now();
    duplex::EventLoop loop;
    std::vector<std::unique_ptr<duplex::Channel>> channels;
    channels.reserve(static_cast<std::size_t>(p.n));
    for (long i = 0; i < p.n; i++) {
      auto c = std::make_unique<duplex::Channel>(&loop, parcel_watched(&p, i));
      c->on_read([&p, &loop, i] {
        if (parcel_on_readable(&p, i)) loop.quit();
      });
      c->enable_reading();
      channels.push_back(std::move(c));
    }
    p.setup_s = parcel_now() - t0;
    parcel_start_round(&p);
    loop.loop();
    for (auto& c : channels) {
      c->disable_all();
      c->remove();
    }
  }
  parcel_report(&p);
  return 0;
}
