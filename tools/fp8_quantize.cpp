// SPDX-License-Identifier: Apache-2.0
// main() of fp8-quantize (tools/fp8_quantize_cli.hpp holds the tool).
#include <iostream>
#include <string>
#include <vector>

#include "fp8_quantize_cli.hpp"

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  return fp8_quantize::run(args, std::cout, std::cerr);
}
