// aspen-sim: see sim/cli.h for the command line and docs/SIMULATOR.md.
#include "sim/cli.h"

int main(int argc, char** argv) {
  return aspen::sim::SimMain(argc, argv);
}
