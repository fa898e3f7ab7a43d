/** MNIST images are 28 x 28 single-channel bytes, stored row-major. */
export const IMAGE_SIDE = 28;
export const PIXELS = IMAGE_SIDE * IMAGE_SIDE;
