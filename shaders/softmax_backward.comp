#version 450
// softmax_backward.comp: TODO(issue 2) placeholder.
layout(local_size_x_id = 0) in;
void main() {}
